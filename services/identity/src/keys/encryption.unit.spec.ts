import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyEncryptionKey, seal, subkey, unseal } from './encryption.ts';

describe('sealing private keys', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh nonce each time', () => {
    const secret = Buffer.from('private key bytes');
    const a = seal(key, secret, 'signing-key:k1');
    const b = seal(key, secret, 'signing-key:k1');
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret.toString('base64url'));
    expect(unseal(key, a, 'signing-key:k1')).toEqual(secret);
  });

  it('refuses another key, another context, or any changed byte', () => {
    const sealed = seal(key, Buffer.from('x'), 'signing-key:k1');
    expect(() => unseal(randomBytes(32), sealed, 'signing-key:k1')).toThrow();
    expect(() => unseal(key, sealed, 'signing-key:k2')).toThrow();
    const [v, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0]! ^= 1;
    expect(() =>
      unseal(key, [v, iv, tag, flipped.toString('base64url')].join('.'), 'signing-key:k1'),
    ).toThrow();
    expect(() => unseal(key, 'garbage', 'signing-key:k1')).toThrow();
  });

  it('takes the configured key as hex or base64 of 32 bytes; a development key only outside production', () => {
    const raw = randomBytes(32);
    expect(keyEncryptionKey(raw.toString('hex'), 'production')).toEqual(raw);
    expect(keyEncryptionKey(raw.toString('base64'), 'production')).toEqual(raw);
    expect(() => keyEncryptionKey(randomBytes(16).toString('base64'), 'production')).toThrow(/32 bytes/);
    expect(() => keyEncryptionKey(undefined, 'production')).toThrow(/required in production/);
    expect(keyEncryptionKey(undefined, 'development')).toHaveLength(32);
  });

  it('derives distinct subkeys per purpose', () => {
    expect(subkey(key, 'a')).not.toEqual(subkey(key, 'b'));
    expect(subkey(key, 'a')).toEqual(subkey(key, 'a'));
  });
});
