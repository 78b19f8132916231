import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalBytes } from './canonical.ts';

/**
 * A seal is an Ed25519 signature over one position of the hash chain: whoever holds the public key
 * can check that the chain up to `seq` ended in `hash` when it was sealed. The signed bytes are the
 * canonical JSON of `{context, seq, hash, sealed_at, key_id}`; the context string keeps a seal's
 * signature from meaning anything else.
 */

export const SEAL_CONTEXT = 'tessera.ledger.audit.seal.v1';

export interface SealBody {
  seq: number;
  hash: string;
  /** ISO-8601 UTC, as `Date.prototype.toISOString()` writes it. */
  sealed_at: string;
  key_id: string;
}

export interface Seal extends SealBody {
  /** Base64 of the 64-byte Ed25519 signature. */
  signature: string;
}

export function sealBytes(body: SealBody): Buffer {
  const { seq, hash, sealed_at, key_id } = body;
  return canonicalBytes({ context: SEAL_CONTEXT, seq, hash, sealed_at, key_id });
}

function assertEd25519(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  }
  return key;
}

/** The 32 raw bytes of an Ed25519 public key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

/** A short name for a public key: the first 16 hex digits of SHA-256 over its 32 raw bytes. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

export function privateKeyPem(privateKey: KeyObject): string {
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** An Ed25519 private key from PEM (PKCS#8) or base64 of its PKCS#8 DER. */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPrivateKey(trimmed)
    : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
  return assertEd25519(key);
}

/**
 * An Ed25519 public key from PEM (SPKI; a private key's PEM also works), base64 of its SPKI DER, or
 * base64 / base64url of the 32 raw bytes.
 */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return assertEd25519(createPublicKey(trimmed));
  const bytes = Buffer.from(trimmed, /[-_]/.test(trimmed) ? 'base64url' : 'base64');
  if (bytes.length === 32) {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
      format: 'jwk',
    });
  }
  return assertEd25519(createPublicKey({ key: bytes, format: 'der', type: 'spki' }));
}

export function signSeal(body: Omit<SealBody, 'key_id'>, privateKey: KeyObject): Seal {
  const full: SealBody = { ...body, key_id: keyIdOf(createPublicKey(privateKey)) };
  return { ...full, signature: sign(null, sealBytes(full), privateKey).toString('base64') };
}

export function verifySeal(seal: Seal, publicKey: KeyObject): boolean {
  const signature = Buffer.from(seal.signature, 'base64');
  if (signature.length !== 64) return false;
  try {
    return verify(null, sealBytes(seal), publicKey, signature);
  } catch {
    return false;
  }
}
