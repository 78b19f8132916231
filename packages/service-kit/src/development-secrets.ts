import { createHash } from 'node:crypto';

/**
 * SHA-256 of the key material (the decoded bytes, not their text form) of every development secret
 * committed to this repository: compose's former defaults, the services' built-in fallbacks and
 * MinIO's default login. Anyone can read them, so production refuses them (issue 19 §3). Only
 * fingerprints are listed here, so this file adds no copy of a secret. A new development secret
 * in the repository gets its line here and a case in development-secrets.unit.spec.ts.
 */
export const KNOWN_DEVELOPMENT_SECRETS: ReadonlyMap<string, string> = new Map([
  [
    'bea9a210eabe08b2df53e50b5a4f7b75912a84858043b87ab9e4acf0a5577c26',
    'IDENTITY_KEY_ENCRYPTION_KEY of docker-compose.yml',
  ],
  ['aec625dda6139a4a865f202a311f622763d9f6cba624e95a2a684165511f2daf', "identity's built-in development key"],
  [
    'a4dd2cec62aef2b028924ac8eb4c138b1ec5cf7f57538c1d6cb41551641c9bbc',
    'SUBMISSIONS_PSEUDONYM_KEY of docker-compose.yml',
  ],
  ['6d91beedf4393aae3066c02dd5627dd04921174efcf6c67724569fb4ba6b535c', "submissions' built-in pseudonym key"],
  // The Ed25519 seed (the 32 private bytes), whatever the key's encoding (PEM, PKCS#8 DER).
  [
    '7b7363fcf2587ff07fbdbcd8b642ed5dd65156590bcbeeeabb209d96ea8ce6ff',
    'LEDGER_SEAL_PRIVATE_KEY of docker-compose.yml',
  ],
  ['4ee798894e98994036d032af544124d3d1a90f719aadd667ef245f74de9104ef', "payouts' development keyring"],
  [
    'fa3624e30564fa58c80f5c7aec113d8043bd7b6424c153089480126dd4aa9b54',
    "engagement's development webhook keys",
  ],
  ['ad9858116e63b0c5a4d7dc7f50f034c7247e56838dae22c1832712ffde48e694', "MinIO's default login (minioadmin)"],
]);

/** Which committed development secret these key bytes are, if any. */
export function knownDevelopmentSecret(keyMaterial: Buffer | string): string | undefined {
  const bytes = typeof keyMaterial === 'string' ? Buffer.from(keyMaterial, 'utf8') : keyMaterial;
  return KNOWN_DEVELOPMENT_SECRETS.get(createHash('sha256').update(bytes).digest('hex'));
}

/** The config error message for a variable that holds one (the caller names the variable). */
export function developmentSecretMessage(which: string): string {
  return `is a development value committed to the repository (${which}): anyone can read it; generate your own (see .env.example)`;
}
