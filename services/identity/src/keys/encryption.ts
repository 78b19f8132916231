import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const DEVELOPMENT_KEY = createHash('sha256')
  .update('tessera identity: development key, never production')
  .digest();

/**
 * The key-encryption key from its configured form (64 hex digits, or base64 of 32 bytes).
 * Outside production, a fixed development key stands in so that a local stack just works.
 */
export function keyEncryptionKey(configured: string | undefined, nodeEnv: string): Buffer {
  if (!configured) {
    if (nodeEnv === 'production') throw new Error('IDENTITY_KEY_ENCRYPTION_KEY is required in production');
    return DEVELOPMENT_KEY;
  }
  const key = /^[0-9a-fA-F]{64}$/.test(configured)
    ? Buffer.from(configured, 'hex')
    : Buffer.from(configured, 'base64');
  if (key.length !== 32) {
    throw new Error('IDENTITY_KEY_ENCRYPTION_KEY must be 32 bytes: 64 hex digits or base64 of 32 bytes');
  }
  return key;
}

/** One master key, several purposes: each gets its own key so no two uses share one. */
export function subkey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `tessera-identity:${purpose}`, 32));
}

/**
 * AES-256-GCM with a random 96-bit nonce. `context` is bound as associated data, so a
 * ciphertext moved to another row (another key id) no longer decrypts.
 */
export function seal(key: Buffer, plaintext: Buffer, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function unseal(key: Buffer, sealed: string, context: string): Buffer {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}
