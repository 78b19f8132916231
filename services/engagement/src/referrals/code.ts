import { randomInt } from 'node:crypto';

/** Upper-case letters and digits without the look-alikes 0/O and 1/I: 32 symbols, read aloud safely. */
export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const CODE_LENGTH = 8;

/** A new random code; `pick(n)` answers a uniform index below n (crypto by default). */
export function newReferralCode(pick: (n: number) => number = (n) => randomInt(n)): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[pick(CODE_ALPHABET.length)];
  return code;
}

/** A code as typed at signup, in the form codes are kept in (upper case, no surrounding space). */
export function normalizeCode(typed: string): string {
  return typed.trim().toUpperCase();
}
