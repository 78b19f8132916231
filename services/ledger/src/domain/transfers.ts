import { z } from 'zod';

export const transferCodes = [
  'topup',
  'campaign_funding',
  'platform_fee',
  'reward',
  'judge_fee',
  'bonus',
  'penalty',
  'refund',
  'withdrawal',
  /** platform:quality → a campaign's budget, linked to the judge fee it funds (a honeypot review). */
  'honeypot_funding',
] as const;
export type TransferCode = (typeof transferCodes)[number];

const amount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * What a caller asks the ledger to do. The id is the idempotency key: the same id with the same
 * request returns the first result; the same id with another request is a conflict.
 */
export const transferRequestSchema = z.strictObject({
  id: z.uuid(),
  debit_account: z.string().min(1).max(200),
  credit_account: z.string().min(1).max(200),
  /**
   * Integer minor units. Zero only with `balancing_debit`, where it moves nothing: to sweep all an
   * account holds, ask for Number.MAX_SAFE_INTEGER.
   */
  amount,
  currency: z.string().regex(/^[A-Z]{3}$/),
  code: z.enum(transferCodes),
  /** The causing event id and the entity ids: strings only, no personal data. */
  metadata: z.record(z.string().max(64), z.string().max(200)).default({}),
  /** Reserve the amount now; post, void or let it expire later. */
  pending: z
    .strictObject({ timeout_seconds: z.number().int().positive().max(31_536_000).nullable() })
    .optional(),
  /**
   * Move at most `amount`: as much as the debit account can give without breaking its constraint
   * (TigerBeetle's balancing_debit). Used to sweep a campaign's remaining budget back.
   */
  balancing_debit: z.boolean().optional(),
});
export type TransferRequest = z.input<typeof transferRequestSchema>;
export type ValidTransferRequest = z.output<typeof transferRequestSchema>;

export type TransferState = 'posted' | 'pending' | 'voided' | 'expired';

/** A transfer as the ledger recorded it. */
export interface Transfer {
  id: string;
  debit_account: string;
  credit_account: string;
  /** The amount actually moved or reserved (below the requested one only for balancing debits). */
  amount: number;
  requested_amount: number;
  currency: string;
  code: TransferCode;
  metadata: Record<string, string>;
  state: TransferState;
  /** ISO time the transfer was recorded. */
  created_at: string;
  /** For pending transfers: when it expires on its own, or null for never. */
  expires_at: string | null;
  /** Ids of the transfers that succeeded or failed together with this one (itself included). */
  linked_ids: string[];
}

/** Resolve a pending transfer: post it (the reserved amount moves) or void it (it is released). */
export interface PendingResolution {
  pending_id: string;
  action: 'post' | 'void';
}
