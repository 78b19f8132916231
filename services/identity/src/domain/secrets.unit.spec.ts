import { describe, expect, it } from 'vitest';
import { generateOtp, keyedHash, randomSecret, sameHex, sha256Hex } from './secrets.ts';

describe('secrets', () => {
  it('draws six-digit codes, leading zeros kept', () => {
    const codes = Array.from({ length: 2_000 }, generateOtp);
    expect(codes.every((c) => /^\d{6}$/.test(c))).toBe(true);
    expect(new Set(codes).size).toBeGreaterThan(1_990);
  });

  it('draws 256-bit url-safe secrets', () => {
    expect(randomSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomSecret()).not.toBe(randomSecret());
  });

  it('hashes deterministically; keyed hashes differ per key', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    expect(keyedHash(a, '123456')).toBe(keyedHash(a, '123456'));
    expect(keyedHash(a, '123456')).not.toBe(keyedHash(b, '123456'));
    expect(keyedHash(a, '123456')).not.toContain('123456');
  });

  it('compares hex digests in constant time, refusing different lengths and empties', () => {
    const h = sha256Hex('x');
    expect(sameHex(h, h)).toBe(true);
    expect(sameHex(h, sha256Hex('y'))).toBe(false);
    expect(sameHex(h, h.slice(0, 10))).toBe(false);
    expect(sameHex('', '')).toBe(false);
  });
});
