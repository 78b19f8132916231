import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';

const withdrawal = { withdrawal_id: entityId, user_id: entityId, amount: money };

/**
 * Payouts: the withdrawal saga's steps the ledger acts on. Requested places a hold (a pending
 * transfer); completed posts it; failed, rejected or cancelled voids it. Frozen and unfrozen say
 * that a withdrawal waits on its user's account (not on the saga), for the user to be told; the
 * ledger's hold of the amount is not touched by them. No account details here.
 */
export const payoutsEvents = [
  defineEvent('payouts.withdrawal.requested.v1', {
    description:
      "A contributor asked to withdraw; the ledger holds the amount from the user's available balance.",
    data: z.object(withdrawal),
  }),
  defineEvent('payouts.withdrawal.approved.v1', {
    description:
      'The withdrawal was approved (by an admin, or automatically for a trusted contributor after the cooling period); it will be sent to the provider. The hold stays.',
    data: z.object({ ...withdrawal, method: z.enum(['admin', 'auto']) }),
  }),
  defineEvent('payouts.withdrawal.processing.v1', {
    description:
      'The withdrawal was handed to the payout provider (the provider pays, or an admin pays by hand and records it); it can no longer be cancelled.',
    data: z.object({ ...withdrawal, provider: z.string().min(1).max(50) }),
  }),
  defineEvent('payouts.withdrawal.completed.v1', {
    description: 'The provider paid the withdrawal; the ledger posts the hold.',
    data: z.object({ ...withdrawal, provider: z.string().min(1).max(50) }),
  }),
  defineEvent('payouts.withdrawal.failed.v1', {
    description: 'The provider could not pay; the ledger releases the hold.',
    data: z.object({ ...withdrawal, reason_code: reasonCode }),
  }),
  defineEvent('payouts.withdrawal.rejected.v1', {
    description: 'An admin or a fraud rule refused the withdrawal; the ledger releases the hold.',
    data: z.object({ ...withdrawal, reason_code: reasonCode }),
  }),
  defineEvent('payouts.withdrawal.cancelled.v1', {
    description: 'The contributor cancelled the withdrawal before it was paid; the ledger releases the hold.',
    data: z.object(withdrawal),
  }),
  defineEvent('payouts.withdrawal.frozen.v1', {
    description:
      "The withdrawal is on hold because of its user's account (reason_code, e.g. ACCOUNT_SUSPENDED: the user was suspended while it waited for approval or sending, or the ledger held it while they were suspended): no one approves it and it is not sent until the hold is lifted (unfrozen), unless it ends first (cancelled, rejected, or cancelled on erasure), which its own event says. The ledger's hold of the amount stays as it is. Its read view shows the same reason as held_reason.",
    data: z.object({ ...withdrawal, reason_code: reasonCode }),
  }),
  defineEvent('payouts.withdrawal.unfrozen.v1', {
    description:
      'The hold a frozen event announced (reason_code, the same) is lifted: the user was reinstated, and the withdrawal goes on where it stood (waiting for approval, or approved and about to be sent).',
    data: z.object({ ...withdrawal, reason_code: reasonCode }),
  }),
] as const;
