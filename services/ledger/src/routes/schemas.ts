import { currencyCode } from '@tessera/contracts';
import { z } from 'zod';

/** Money as the API speaks it: integer minor units and an ISO 4217 code; never a float. */
export const moneySchema = z.object({
  amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

/** A positive amount a client asks to move. */
export const positiveMoneySchema = z.strictObject({
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

/** A balance that may be negative (the world account, the promotions expense). */
export const signedMoneySchema = z.object({
  amount: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

export const money = (amount: number, currency: string) => ({ amount, currency });

/**
 * The Idempotency-Key header every money-moving POST requires. Loose, so the other headers (the
 * bearer token) survive validation.
 */
export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
});

export const currencyQuery = z.strictObject({ currency: currencyCode.optional() });

export const statementLineSchema = z.object({
  seq: z.number().int(),
  transfer_id: z.uuid(),
  code: z.string(),
  direction: z.enum(['debit', 'credit']),
  phase: z.enum(['pending', 'posted', 'voided', 'expired']),
  amount: moneySchema,
  counterparty: z.string(),
  balance: signedMoneySchema,
  available: signedMoneySchema,
  metadata: z.record(z.string(), z.string()),
  at: z.iso.datetime({ offset: true }),
});

/** A statement cursor: the `seq` of the last line seen, opaque to clients. */
export const cursorSchema = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const decoded = Buffer.from(value, 'base64url').toString('utf8');
    const match = /^s(\d{1,15})$/.exec(decoded);
    if (!match?.[1]) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return Number(match[1]);
  });

export const encodeCursor = (seq: number) => Buffer.from(`s${seq}`, 'utf8').toString('base64url');

const uuid = z.uuid();
export const isUuid = (value: string) => uuid.safeParse(value).success;

/** A path id: a UUID, lower-cased so that one entity has one spelling. */
export const idParams = z.strictObject({ id: z.uuid().transform((id) => id.toLowerCase()) });
