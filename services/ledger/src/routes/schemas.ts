import { currencyCode } from '@tessera/contracts';
import { moneySchema, opaqueCursor, signedMoneySchema, timestamp } from '@tessera/service-kit';
import { z } from 'zod';
import { statementCauseSchema } from './statement-cause.ts';

export const money = (amount: number, currency: string) => ({ amount, currency });

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
  /** Why the money moved, for the reader of the statement. */
  cause: statementCauseSchema,
  at: timestamp,
});

/** A statement cursor: the `seq` of the last line seen, opaque to clients. */
export const statementCursor = opaqueCursor(
  z.strictObject({ s: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) }),
);
