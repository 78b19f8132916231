import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { MethodType } from '../db/schema.ts';

/**
 * Payout details at rest: AES-256-GCM under a named key. What is stored is `iv ‖ ciphertext ‖ tag`
 * (a random 12-byte IV, a 16-byte tag) beside the key's id; the associated data binds the
 * ciphertext to its row, so details copied into another row (another method, another user) do not
 * decrypt. New details use the active key; any key of the ring still opens what it sealed, so keys
 * rotate without re-encrypting everything at once. No I/O: the caller reads and writes the rows.
 */
export interface Keyring {
  keys: ReadonlyMap<string, Buffer>;
  activeKeyId: string;
}

export interface Sealed {
  keyId: string;
  /** iv ‖ ciphertext ‖ tag. */
  sealed: Buffer;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Details that cannot be opened: an unknown key, a tampered or moved ciphertext. The message names
 * at most the key id, never anything of the details.
 */
export class UnreadableDetailsError extends Error {
  override readonly name = 'UnreadableDetailsError';
}

function keyOf(keyring: Keyring, keyId: string): Buffer {
  const key = keyring.keys.get(keyId);
  if (!key) throw new UnreadableDetailsError(`no encryption key "${keyId}" in the keyring`);
  if (key.length !== KEY_BYTES) throw new UnreadableDetailsError(`encryption key "${keyId}" is not 32 bytes`);
  return key;
}

/** Encrypts `plaintext` under the active key, bound to `aad`. */
export function seal(keyring: Keyring, plaintext: Buffer, aad: Buffer): Sealed {
  const key = keyOf(keyring, keyring.activeKeyId);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { keyId: keyring.activeKeyId, sealed: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]) };
}

/** Decrypts what `seal` made with the key `keyId` names; throws `UnreadableDetailsError` otherwise. */
export function open(keyring: Keyring, keyId: string, sealed: Buffer, aad: Buffer): Buffer {
  const key = keyOf(keyring, keyId);
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new UnreadableDetailsError('sealed details are too short');
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const ciphertext = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // Node says only "Unsupported state or unable to authenticate data"; say which key was tried.
    throw new UnreadableDetailsError(`sealed details do not authenticate under key "${keyId}"`);
  }
}

/** The row a method's details belong to: what the associated data binds them to. */
export interface DetailsOwner {
  methodId: string;
  userId: string;
  type: MethodType;
}

/** The associated data of a method's details: versioned, NUL-separated (ids and types hold no NUL). */
export function detailsAad(owner: DetailsOwner): Buffer {
  return Buffer.from(
    ['tessera.payouts.method-details.v1', owner.methodId, owner.userId, owner.type].join('\0'),
    'utf8',
  );
}

/** A method's details (a JSON object), sealed for its row. */
export function sealDetails(keyring: Keyring, owner: DetailsOwner, details: Record<string, unknown>): Sealed {
  return seal(keyring, Buffer.from(JSON.stringify(details), 'utf8'), detailsAad(owner));
}

/** A method's details, opened for its row; throws `UnreadableDetailsError` if they are not its own. */
export function openDetails(
  keyring: Keyring,
  owner: DetailsOwner,
  stored: { keyId: string; sealed: Buffer },
): Record<string, unknown> {
  const plaintext = open(keyring, stored.keyId, stored.sealed, detailsAad(owner));
  const details: unknown = JSON.parse(plaintext.toString('utf8'));
  if (typeof details !== 'object' || details === null || Array.isArray(details)) {
    throw new UnreadableDetailsError('sealed details are not an object');
  }
  return details as Record<string, unknown>;
}

/**
 * A keyed fingerprint (HMAC-SHA-256 under a key derived from the active key for `purpose`): what
 * stands in for a request body holding details where only equality matters (the Idempotency-Key
 * check), so no plain hash of guessable details (an account number, an email) is stored.
 */
export function keyedFingerprint(keyring: Keyring, purpose: string, data: string): string {
  const key = Buffer.from(
    hkdfSync(
      'sha256',
      keyOf(keyring, keyring.activeKeyId),
      Buffer.alloc(0),
      `tessera.payouts.${purpose}`,
      32,
    ),
  );
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}
