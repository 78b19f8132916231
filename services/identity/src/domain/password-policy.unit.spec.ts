import { describe, expect, it } from 'vitest';
import {
  commonPasswordCount,
  isCommonPassword,
  normalizePassword,
  passwordProblem,
} from './password-policy.ts';

describe('password policy', () => {
  it('ships a real common-password list', () => {
    expect(commonPasswordCount).toBeGreaterThan(10_000);
  });

  it('wants at least 10 characters, counted as code points after NFKC', () => {
    expect(passwordProblem('abcdefghi')).toBe('PASSWORD_TOO_SHORT');
    expect(passwordProblem('')).toBe('PASSWORD_TOO_SHORT');
    expect(passwordProblem('wistful-otter')).toBeNull();
    // Ten emoji are ten characters (twenty UTF-16 units).
    expect(passwordProblem('🦊🦊🦊🦊🦊🦊🦊🦊🦊')).toBe('PASSWORD_TOO_SHORT');
    expect(passwordProblem('🦊🐙🦊🐙🦊🐙🦊🐙🦊🐙')).toBeNull();
  });

  it('caps the length so nobody makes us hash a megabyte', () => {
    expect(passwordProblem('x'.repeat(257))).toBe('PASSWORD_TOO_LONG');
    expect(passwordProblem('correct horse battery staple '.repeat(8).slice(0, 256))).toBeNull();
  });

  it('refuses common passwords, in any case and with decorations', () => {
    for (const password of [
      '1234567890',
      'qwertyuiop',
      'Password123',
      'PASSWORD1234',
      'Qwertyuiop2024!',
      '!!football1234',
    ]) {
      expect(passwordProblem(password), password).toBe('PASSWORD_TOO_COMMON');
    }
    expect(isCommonPassword('violet-harbour-51-lantern')).toBe(false);
  });

  it('normalizes compatibility forms so one typed password is one password', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password');
    expect(normalizePassword('e\u0301')).toBe('\u00e9');
  });
});
