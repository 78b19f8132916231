import { describe, expect, it } from 'vitest';
import { displayPrefix, generateApiKey, parseApiKey } from './api-keys.ts';
import { sha256Hex } from './secrets.ts';

describe('API keys', () => {
  it('are tsk_<prefix>_<256-bit secret>, stored as a SHA-256', () => {
    const key = generateApiKey();
    expect(key.key).toMatch(/^tsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.hash).toBe(sha256Hex(key.key));
    expect(key.key.startsWith(displayPrefix(key.prefix))).toBe(true);
    expect(generateApiKey().prefix).not.toBe(key.prefix);
  });

  it('parse to their lookup prefix and hash; anything else is refused', () => {
    const key = generateApiKey();
    expect(parseApiKey(key.key)).toEqual({ prefix: key.prefix, hash: key.hash });
    for (const bad of ['', 'tsk_', `${key.key}x`, key.key.replace('tsk_', 'tsx_'), key.key.toUpperCase()]) {
      expect(parseApiKey(bad), bad).toBeNull();
    }
  });
});
