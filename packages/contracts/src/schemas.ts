import { z } from 'zod';

/**
 * Shared field shapes for event data. Money is an integer amount of minor units (cents) with an
 * ISO 4217 currency code; never a float.
 */
export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "USD"');

export const money = z.object({
  amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});
export type Money = z.infer<typeof money>;

/** A code a machine can branch on (`INSUFFICIENT_FUNDS`, `fraud`), never free text with personal data. */
export const reasonCode = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/);

export const entityId = z.uuid();
