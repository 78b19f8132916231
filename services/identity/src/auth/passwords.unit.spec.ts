import { describe, expect, it } from 'vitest';
import { Passwords } from './passwords.ts';

describe('password hashing', () => {
  const passwords = new Passwords({ memoryKib: 8192, timeCost: 1 });

  it('hashes with argon2id and verifies, NFKC-normalized', async () => {
    const hash = await passwords.hash('ｗｉｓｔｆｕｌ-otter-42');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    expect(await passwords.verify(hash, 'wistful-otter-42')).toBe(true);
    expect(await passwords.verify(hash, 'wistful-otter-43')).toBe(false);
  });

  it('answers false, after the same work, without a stored hash or with a broken one', async () => {
    expect(await passwords.verify(null, 'anything-at-all')).toBe(false);
    expect(await passwords.verify('not a hash', 'anything-at-all')).toBe(false);
  });

  it('knows when a hash was made with other parameters', async () => {
    expect(passwords.needsRehash(await passwords.hash('wistful-otter-42'))).toBe(false);
    const stronger = new Passwords({ memoryKib: 19_456, timeCost: 2 });
    expect(stronger.needsRehash(await passwords.hash('wistful-otter-42'))).toBe(true);
    expect(passwords.needsRehash('$2b$10$bcrypt')).toBe(true);
  });
});
