import { currencyCode } from '@tessera/contracts';
import { z } from 'zod';

/**
 * The pieces of HTTP schemas every service declares the same way: ids, the Idempotency-Key header,
 * money, text as a person writes it. One definition each, so they cannot drift apart.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in any case (ids from tokens and events are checked before a query). */
export const isUuid = (value: string): boolean => UUID.test(value);

/** A path or body id: a UUID, lower-cased so that one entity has one spelling. */
export const uuidParam = z.uuid().transform((id) => id.toLowerCase());
export const idParams = z.strictObject({ id: uuidParam });

const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters (no spaces)');

/** Headers of a POST that accepts an `Idempotency-Key`. Loose: the other headers must survive. */
export const idempotencyHeaders = z.looseObject({ 'idempotency-key': idempotencyKey.optional() });
/** Headers of a POST that requires one (those that move money). */
export const requiredIdempotencyHeaders = z.looseObject({ 'idempotency-key': idempotencyKey });

/** Money a client asks to move or reserve: positive integer minor units and an ISO 4217 code. */
export const positiveMoney = z.strictObject({
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

/** Money as the API answers it: integer minor units (never negative) and its currency. */
export const moneySchema = z.object({
  amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

/** A balance that may be negative (the world account, an expense). */
export const signedMoneySchema = z.object({
  amount: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

export const timestamp = z.iso.datetime({ offset: true });

const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL_SINGLE_LINE = /\p{Cc}/u;
const CONTROL_MULTI_LINE = /(?![\t\n\r])\p{Cc}/u;
/**
 * Invisible characters that hide or reorder what a reader sees: zero-width space, the directional
 * marks, bidi embeddings, overrides and isolates, the BOM. The zero-width (non-)joiners stay: Persian,
 * the Indic scripts and emoji sequences need them.
 */
const INVISIBLE = /[\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/u;

/**
 * Why `value` is not text we store, or null when it is: no lone UTF-16 surrogates (they cannot be
 * encoded), no control characters (tab and line breaks only in multi-line text; Postgres refuses
 * NUL), nothing invisible that hides or reorders what a reader sees.
 */
export function oddTextReason(value: string, options: { multiline?: boolean } = {}): string | null {
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate';
  if ((options.multiline ? CONTROL_MULTI_LINE : CONTROL_SINGLE_LINE).test(value)) {
    return 'contains control characters';
  }
  if (INVISIBLE.test(value)) return 'contains invisible or reordering characters';
  return null;
}

/** Text as a person writes it: trimmed, at most `max` characters, nothing odd (`oddTextReason`). */
export function safeText(max: number, options: { multiline?: boolean } = {}) {
  return z
    .string()
    .refine((value) => oddTextReason(value, options) === null, {
      error: (issue) => oddTextReason(issue.input as string, options) ?? 'is not acceptable text',
    })
    .trim()
    .max(max);
}
