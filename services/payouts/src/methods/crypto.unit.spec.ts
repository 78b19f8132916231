import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  detailsAad,
  type DetailsOwner,
  type Keyring,
  keyedFingerprint,
  open,
  openDetails,
  seal,
  sealDetails,
  UnreadableDetailsError,
} from './crypto.ts';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const ringA: Keyring = { keys: new Map([['a', keyA]]), activeKeyId: 'a' };
/** Key B added and made active; A still there for what it sealed. */
const ringAB: Keyring = {
  keys: new Map([
    ['a', keyA],
    ['b', keyB],
  ]),
  activeKeyId: 'b',
};

const owner: DetailsOwner = { methodId: randomUUID(), userId: randomUUID(), type: 'bank_transfer' };
const details = { account_name: 'Jane Doe', iban: 'NL91ABNA0417164300' };

describe('sealing payout details (AES-256-GCM)', () => {
  it('round-trips, as iv (12) ‖ ciphertext ‖ tag (16) under the active key', () => {
    const sealed = sealDetails(ringA, owner, details);
    expect(sealed.keyId).toBe('a');
    const plaintextLength = Buffer.byteLength(JSON.stringify(details));
    expect(sealed.sealed.length).toBe(12 + plaintextLength + 16);
    expect(openDetails(ringA, owner, sealed)).toEqual(details);
  });

  it('hides the plaintext, and never seals the same details the same way twice (random IV)', () => {
    const first = sealDetails(ringA, owner, details);
    const second = sealDetails(ringA, owner, details);
    expect(first.sealed.subarray(0, 12).equals(second.sealed.subarray(0, 12))).toBe(false);
    expect(first.sealed.equals(second.sealed)).toBe(false);
    for (const text of [
      first.sealed.toString('utf8'),
      first.sealed.toString('latin1'),
      first.sealed.toString('hex'),
    ]) {
      expect(text).not.toContain('NL91ABNA0417164300');
      expect(text).not.toContain(Buffer.from('NL91ABNA0417164300').toString('hex'));
    }
  });

  it('refuses tampered bytes anywhere: iv, ciphertext or tag', () => {
    const sealed = sealDetails(ringA, owner, details);
    for (const at of [0, 11, 12, sealed.sealed.length - 17, sealed.sealed.length - 1]) {
      const tampered = Buffer.from(sealed.sealed);
      tampered[at]! ^= 0x01;
      expect(() => openDetails(ringA, owner, { keyId: 'a', sealed: tampered }), `byte ${at}`).toThrow(
        UnreadableDetailsError,
      );
    }
    expect(() => openDetails(ringA, owner, { keyId: 'a', sealed: sealed.sealed.subarray(0, 27) })).toThrow(
      UnreadableDetailsError,
    );
    expect(() => openDetails(ringA, owner, { keyId: 'a', sealed: Buffer.alloc(0) })).toThrow(
      UnreadableDetailsError,
    );
  });

  it('refuses details moved to another row: another method, another user, another type', () => {
    const sealed = sealDetails(ringA, owner, details);
    for (const other of [
      { ...owner, methodId: randomUUID() },
      { ...owner, userId: randomUUID() },
      { ...owner, type: 'paypal' as const },
    ]) {
      expect(() => openDetails(ringA, other, sealed)).toThrow(UnreadableDetailsError);
    }
    expect(() => open(ringA, 'a', sealed.sealed, Buffer.from('something else'))).toThrow(
      UnreadableDetailsError,
    );
  });

  it('refuses the wrong key and an unknown key id, without naming anything of the details', () => {
    const sealed = sealDetails(ringA, owner, details);
    const wrong: Keyring = { keys: new Map([['a', keyB]]), activeKeyId: 'a' };
    expect(() => openDetails(wrong, owner, sealed)).toThrow(/do not authenticate under key "a"/);
    expect(() => openDetails(ringA, owner, { ...sealed, keyId: 'b' })).toThrow(/no encryption key "b"/);
    try {
      openDetails(wrong, owner, sealed);
    } catch (error) {
      expect(String(error)).not.toContain('NL91');
      expect(String(error)).not.toContain('Jane');
    }
  });

  it('rotates: with key B added as active, new details use B and old rows sealed with A still open', () => {
    const old = sealDetails(ringA, owner, details);
    const fresh = sealDetails(ringAB, owner, details);
    expect(old.keyId).toBe('a');
    expect(fresh.keyId).toBe('b');
    expect(openDetails(ringAB, owner, old)).toEqual(details);
    expect(openDetails(ringAB, owner, fresh)).toEqual(details);
    // The key id is part of what decides: A's ciphertext does not open under B.
    expect(() => openDetails(ringAB, owner, { ...old, keyId: 'b' })).toThrow(UnreadableDetailsError);
  });

  it('refuses a key that is not 32 bytes', () => {
    const short: Keyring = { keys: new Map([['s', randomBytes(16)]]), activeKeyId: 's' };
    expect(() => seal(short, Buffer.from('x'), Buffer.alloc(0))).toThrow(UnreadableDetailsError);
  });

  it('binds the version, method, user and type in the associated data', () => {
    expect(detailsAad(owner).toString('utf8').split('\0')).toEqual([
      'tessera.payouts.method-details.v1',
      owner.methodId,
      owner.userId,
      owner.type,
    ]);
  });
});

describe('keyed fingerprints', () => {
  it('are equal for equal data, differ by data and by key, and are not a plain SHA-256', () => {
    const one = keyedFingerprint(ringA, 'idempotency', '{"iban":"NL91ABNA0417164300"}');
    expect(keyedFingerprint(ringA, 'idempotency', '{"iban":"NL91ABNA0417164300"}')).toBe(one);
    expect(keyedFingerprint(ringA, 'idempotency', '{"iban":"NL92ABNA0417164300"}')).not.toBe(one);
    expect(keyedFingerprint(ringAB, 'idempotency', '{"iban":"NL91ABNA0417164300"}')).not.toBe(one);
    expect(keyedFingerprint(ringA, 'other', '{"iban":"NL91ABNA0417164300"}')).not.toBe(one);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
  });
});
