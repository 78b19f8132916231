import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets: how they are made, and how they rest in the database (AES-256-GCM under
 * a named key of ENGAGEMENT_WEBHOOK_KEYS). What is stored is `iv ‖ ciphertext ‖ tag` beside the
 * key's id; the associated data binds it to its webhook, so a secret copied into another row does
 * not open. Any key of the ring opens what it sealed, so keys rotate without re-encrypting at once.
 * No I/O.
 */
export interface Keyring {
  keys: ReadonlyMap<string, Buffer>;
  activeKeyId: string;
}

export interface SealedSecret {
  keyId: string;
  /** iv ‖ ciphertext ‖ tag. */
  sealed: Buffer;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Used only when NODE_ENV is development or test (settings.ts enforces it). */
export const DEVELOPMENT_WEBHOOK_KEYS = 'dev1:q3F0bL1mXw8o2xq2m0Hq5W3c3Hk8cVZc1l7z4Yb9ZqM=';

/** A secret that cannot be opened (an unknown key, a tampered or moved ciphertext); names only the key. */
export class UnreadableSecretError extends Error {
  override readonly name = 'UnreadableSecretError';
}

/** Parses `kid:base64key,...`; answers why not, without echoing any key material. */
export function parseKeyring(value: string, activeKeyId?: string): Keyring | string {
  const keys = new Map<string, Buffer>();
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [kid, key, ...rest] = entry.split(':');
    const bytes = key ? Buffer.from(key, 'base64') : Buffer.alloc(0);
    if (!kid || !/^[A-Za-z0-9_-]{1,32}$/.test(kid) || rest.length > 0 || bytes.length !== KEY_BYTES) {
      return 'expected kid:base64key pairs of 32-byte keys, comma-separated';
    }
    if (keys.has(kid)) return `key id "${kid}" appears twice`;
    keys.set(kid, bytes);
  }
  const first = [...keys.keys()][0];
  if (first === undefined) return 'expected at least one kid:base64key';
  const active = activeKeyId ?? first;
  if (!keys.has(active)) return `the active key "${active}" is not in the keyring`;
  return { keys, activeKeyId: active };
}

/** A new signing secret: `whsec_` and 32 random bytes, base64url. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function secretAad(webhookId: string, companyId: string): Buffer {
  return Buffer.from(
    ['tessera.engagement.webhook-secret.v1', webhookId.toLowerCase(), companyId.toLowerCase()].join('\0'),
    'utf8',
  );
}

function keyOf(keyring: Keyring, keyId: string): Buffer {
  const key = keyring.keys.get(keyId);
  if (!key) throw new UnreadableSecretError(`no webhook key "${keyId}" in the keyring`);
  return key;
}

export function sealSecret(
  keyring: Keyring,
  owner: { webhookId: string; companyId: string },
  secret: string,
): SealedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, keyOf(keyring, keyring.activeKeyId), iv, {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(secretAad(owner.webhookId, owner.companyId));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { keyId: keyring.activeKeyId, sealed: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]) };
}

export function openSecret(
  keyring: Keyring,
  owner: { webhookId: string; companyId: string },
  stored: SealedSecret,
): string {
  const key = keyOf(keyring, stored.keyId);
  const { sealed } = stored;
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new UnreadableSecretError('sealed secret is too short');
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(secretAad(owner.webhookId, owner.companyId));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new UnreadableSecretError(`sealed secret does not authenticate under key "${stored.keyId}"`);
  }
}
