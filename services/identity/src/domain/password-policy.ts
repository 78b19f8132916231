import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_LENGTH = 10;
/** Long enough for any passphrase, short enough that nobody makes us hash a megabyte. */
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordProblem = 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_TOO_COMMON';

/** ~49,000 passwords seen most often in breaches (zxcvbn-ts's list), lower-cased. */
const COMMON = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

export const commonPasswordCount = COMMON.size;

/**
 * The same characters typed on two keyboards can be different code points; NFKC makes them one,
 * so a password is compared as the person typed it, not as the device encoded it.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * A password is common when it, or its core once a run of digits and symbols is stripped from
 * either end ("Password2024!" -> "password"), is on the list.
 */
export function isCommonPassword(password: string): boolean {
  const lower = normalizePassword(password).toLowerCase();
  if (COMMON.has(lower)) return true;
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/gu, '');
  return core.length >= 4 && core !== lower && COMMON.has(core);
}

/** NIST 800-63B style: length and a blocklist, no composition rules. */
export function passwordProblem(password: string): PasswordProblem | null {
  const length = [...normalizePassword(password)].length;
  if (length < PASSWORD_MIN_LENGTH) return 'PASSWORD_TOO_SHORT';
  if (length > PASSWORD_MAX_LENGTH) return 'PASSWORD_TOO_LONG';
  if (isCommonPassword(password)) return 'PASSWORD_TOO_COMMON';
  return null;
}

export const passwordProblemDetail: Record<PasswordProblem, string> = {
  PASSWORD_TOO_SHORT: `Use at least ${PASSWORD_MIN_LENGTH} characters.`,
  PASSWORD_TOO_LONG: `Use at most ${PASSWORD_MAX_LENGTH} characters.`,
  PASSWORD_TOO_COMMON: 'This password is among the most common ones; choose another.',
};
