import { timestamp } from '@tessera/service-kit';
import { z } from 'zod';
import type { UserStanding } from '../users/repository.ts';
import { heldReason } from './decide.ts';
import type { WithdrawalRecord } from './handle.ts';

const money = z.object({ amount: z.number().int(), currency: z.string() });
const isoOrNull = (value: Date | null) => (value === null ? null : value.toISOString());

/** Every state of the saga (decide.ts), as the API spells it. */
export const withdrawalStatuses = z.enum([
  'requested',
  'pending_review',
  'approved',
  'processing',
  'completed',
  'failed',
  'rejected',
  'cancelled',
]);

export const withdrawalSchema = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  amount: money,
  method: z.object({ id: z.uuid(), type: z.enum(['paypal', 'bank_transfer', 'crypto_usdc']) }),
  status: withdrawalStatuses,
  provider: z.string().nullable(),
  external_transaction_id: z.string().nullable(),
  reason_code: z.string().nullable(),
  /** Why it waits, when its user's account stops it (decide.ts `heldReason`): ACCOUNT_SUSPENDED. */
  held_reason: z.enum(['ACCOUNT_SUSPENDED']).nullable(),
  /** What the user may do next, in words. */
  next: z.string(),
  requested_at: timestamp,
  approved_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
  updated_at: timestamp,
});

/**
 * A withdrawal as admins see it: with the admin's note on a rejection (the reject route's `reason`),
 * which is for admins only. The user's own routes answer `withdrawalSchema`, without it.
 */
export const adminWithdrawalSchema = withdrawalSchema.extend({
  rejected_note: z.string().nullable(),
});

const NEXT: Record<WithdrawalRecord['status'], string> = {
  requested: 'The amount is being held from your wallet.',
  pending_review: 'Waiting for approval; you may cancel it.',
  approved: 'Approved; it will be sent shortly. You may still cancel it.',
  processing: 'Being paid out; it can no longer be cancelled.',
  completed: 'Paid.',
  failed: 'The payout failed; the amount is back in your wallet.',
  rejected: 'Refused; the amount is back in your wallet (if it was held).',
  cancelled: 'Cancelled; the amount is back in your wallet.',
};

const HELD: Record<NonNullable<ReturnType<typeof heldReason>>, string> = {
  ACCOUNT_SUSPENDED:
    'On hold while your account is suspended: it is neither approved nor sent until your account is reinstated. You may still cancel it.',
};

/**
 * A withdrawal as the API shows it. `standing`, its user's, says whether it is on hold (reads pass
 * it; an answer to a move of the saga, which a suspended user's withdrawal cannot make, need not).
 */
export function presentWithdrawal(
  w: WithdrawalRecord,
  standing?: Pick<UserStanding, 'status'>,
): z.infer<typeof withdrawalSchema> {
  const held = standing ? heldReason(w.status, standing.status) : null;
  return {
    id: w.id,
    user_id: w.user_id,
    amount: { amount: Number(w.amount), currency: w.currency },
    method: { id: w.method_id, type: w.method_type },
    status: w.status,
    provider: w.provider,
    external_transaction_id: w.external_transaction_id,
    reason_code: w.reason_code,
    held_reason: held,
    next: held ? HELD[held] : NEXT[w.status],
    requested_at: w.requested_at.toISOString(),
    approved_at: isoOrNull(w.approved_at),
    finished_at: isoOrNull(w.finished_at),
    updated_at: w.updated_at.toISOString(),
  };
}

/** A withdrawal as admins see it (`adminWithdrawalSchema`): `presentWithdrawal` and the rejection's note. */
export function presentAdminWithdrawal(
  w: WithdrawalRecord,
  standing?: Pick<UserStanding, 'status'>,
): z.infer<typeof adminWithdrawalSchema> {
  return { ...presentWithdrawal(w, standing), rejected_note: w.rejected_note };
}
