import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from './chain.ts';
import {
  keyIdOf,
  parsePrivateKey,
  parsePublicKey,
  publicKeyPem,
  rawPublicKey,
  sealBytes,
  signSeal,
  verifySeal,
} from './seal.ts';
import { createSigner } from './seal-keys.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const body = { seq: 1000, hash: 'ab'.repeat(32), sealed_at: '2025-01-01T00:00:00.000Z' };

describe('seals', () => {
  it('signs the canonical seal body with a context, and verifies with the public key', () => {
    const seal = signSeal(body, privateKey);
    expect(seal.key_id).toBe(keyIdOf(publicKey));
    expect(sealBytes(seal).toString()).toBe(
      `{"context":"tessera.ledger.audit.seal.v1","hash":"${body.hash}","key_id":"${seal.key_id}",` +
        `"sealed_at":"2025-01-01T00:00:00.000Z","seq":1000}`,
    );
    expect(verifySeal(seal, publicKey)).toBe(true);
  });

  it('fails for any altered field, another key or a garbled signature', () => {
    const seal = signSeal(body, privateKey);
    expect(verifySeal({ ...seal, seq: 999 }, publicKey)).toBe(false);
    expect(verifySeal({ ...seal, hash: GENESIS_HASH }, publicKey)).toBe(false);
    expect(verifySeal({ ...seal, sealed_at: '2025-01-01T00:00:00.001Z' }, publicKey)).toBe(false);
    expect(verifySeal({ ...seal, key_id: 'someone' }, publicKey)).toBe(false);
    expect(verifySeal(seal, generateKeyPairSync('ed25519').publicKey)).toBe(false);
    expect(verifySeal({ ...seal, signature: 'AAAA' }, publicKey)).toBe(false);
    const flipped = Buffer.from(seal.signature, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(verifySeal({ ...seal, signature: flipped.toString('base64') }, publicKey)).toBe(false);
  });

  it('reads keys as PEM, base64 DER, or raw public key bytes, all with the same key id', () => {
    const id = keyIdOf(publicKey);
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(createSigner(parsePrivateKey(pkcs8)).keyId).toBe(id);
    expect(
      createSigner(parsePrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())).keyId,
    ).toBe(id);
    expect(keyIdOf(parsePublicKey(publicKeyPem(publicKey)))).toBe(id);
    expect(keyIdOf(parsePublicKey(spki))).toBe(id);
    expect(keyIdOf(parsePublicKey(rawPublicKey(publicKey).toString('base64')))).toBe(id);
    expect(keyIdOf(parsePublicKey(rawPublicKey(publicKey).toString('base64url')))).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses keys that are not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parsePrivateKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())).toThrow(
      /Ed25519/,
    );
    expect(() => parsePublicKey(rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString())).toThrow(
      /Ed25519/,
    );
  });
});
