import * as argon2 from '@node-rs/argon2';
import { describe, expect, it, vi } from 'vitest';
import { Passwords } from './passwords.ts';

vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof argon2>();
  return { ...real, verify: vi.fn(real.verify) };
});

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

  it("verifies against a dummy hash of today's parameters when there is no stored one", async () => {
    const verify = vi.mocked(argon2.verify);
    verify.mockClear();
    expect(await passwords.verify(undefined, 'anything-at-all')).toBe(false);
    expect(await passwords.verify(null, 'anything-else')).toBe(false);
    // One real argon2 verification each, against the same argon2id hash at the configured cost.
    expect(verify).toHaveBeenCalledTimes(2);
    const [first, second] = verify.mock.calls.map(([hash]) => hash);
    expect(first).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    expect(second).toBe(first);
    await expect(verify.mock.results[0]!.value).resolves.toBe(false);
  });

  it('knows when a hash was made with other parameters', async () => {
    expect(passwords.needsRehash(await passwords.hash('wistful-otter-42'))).toBe(false);
    const stronger = new Passwords({ memoryKib: 19_456, timeCost: 2 });
    expect(stronger.needsRehash(await passwords.hash('wistful-otter-42'))).toBe(true);
    expect(passwords.needsRehash('$2b$10$bcrypt')).toBe(true);
  });
});
