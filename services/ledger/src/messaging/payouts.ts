import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import { accountIds } from '../domain/accounts.ts';
import type { LedgerDB } from '../service.ts';
import { type FlowDeps, moveOnce, NotYetError, reasonOf } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

type Release =
  'payouts.withdrawal.failed.v1' | 'payouts.withdrawal.rejected.v1' | 'payouts.withdrawal.cancelled.v1';

/**
 * The ledger's side of the withdrawal saga: a request places a hold (a pending transfer from the
 * user's available balance to the world, with no timeout: payouts decides when it ends); the
 * provider's success posts it; a failure, rejection or cancellation voids it.
 */
export function payoutHandlers(deps: FlowDeps): HandlerMap<LedgerDB> {
  return {
    'payouts.withdrawal.requested.v1': (event, trx) => placeHold(deps, event, trx),
    'payouts.withdrawal.completed.v1': (event, trx) => settle(deps, event, trx),
    'payouts.withdrawal.failed.v1': (event, trx) => release(deps, event, trx),
    'payouts.withdrawal.rejected.v1': (event, trx) => release(deps, event, trx),
    'payouts.withdrawal.cancelled.v1': (event, trx) => release(deps, event, trx),
  };
}

async function placeHold(
  deps: FlowDeps,
  event: TesseraEvent<'payouts.withdrawal.requested.v1'>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const withdrawalId = canonicalId(event.data.withdrawal_id);
  const userId = canonicalId(event.data.user_id);
  const { amount } = event.data;
  const transferId = transferIds.withdrawal(withdrawalId);
  const moved = await moveOnce(deps, [
    {
      id: transferId,
      debit_account: accountIds.userAvailable(userId),
      credit_account: accountIds.world,
      amount: amount.amount,
      currency: amount.currency,
      code: 'withdrawal',
      metadata: { withdrawal_id: withdrawalId, user_id: userId },
      pending: { timeout_seconds: null },
    },
  ]);
  const base = { withdrawal_id: withdrawalId, user_id: userId };
  const meta = causedBy(event, withdrawalId);
  const outcome = moved.ok
    ? buildEvent(
        'ledger.withdrawal.hold-placed.v1',
        {
          ...base,
          amount: { amount: moved.transfers[0]?.amount ?? amount.amount, currency: amount.currency },
          transfer_id: transferId,
        },
        meta,
      )
    : buildEvent(
        'ledger.withdrawal.hold-rejected.v1',
        { ...base, amount, reason_code: reasonOf(moved.rejection).reason_code },
        meta,
      );
  await publishOutcome(trx, outcomeKey(outcome.type, withdrawalId), outcome);
}

async function settle(
  deps: FlowDeps,
  event: TesseraEvent<'payouts.withdrawal.completed.v1'>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const withdrawalId = canonicalId(event.data.withdrawal_id);
  const transferId = transferIds.withdrawal(withdrawalId);
  const outcome = await deps.engine.resolve({ pending_id: transferId, action: 'post' });
  if (!outcome.ok) {
    if (outcome.rejection.code === 'PENDING_NOT_FOUND') {
      if (await holdWasRejected(trx, withdrawalId)) {
        throw new Error(`withdrawal ${withdrawalId} completed, but the ledger never held its amount`);
      }
      throw new NotYetError(`withdrawal ${withdrawalId} completed before its hold was placed`);
    }
    // Posting a voided hold: payouts and the ledger disagree; an operator must look (dead letter).
    throw new Error(`cannot settle withdrawal ${withdrawalId}: ${outcome.rejection.detail}`);
  }
  const { transfer } = outcome;
  const settled = buildEvent(
    'ledger.withdrawal.settled.v1',
    {
      withdrawal_id: withdrawalId,
      user_id: canonicalId(event.data.user_id),
      amount: { amount: transfer.amount, currency: transfer.currency },
      transfer_id: transferId,
    },
    causedBy(event, withdrawalId),
  );
  await publishOutcome(trx, outcomeKey(settled.type, withdrawalId), settled);
}

async function release(
  deps: FlowDeps,
  event: TesseraEvent<Release>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const withdrawalId = canonicalId(event.data.withdrawal_id);
  const transferId = transferIds.withdrawal(withdrawalId);
  const outcome = await deps.engine.resolve({ pending_id: transferId, action: 'void' });
  if (!outcome.ok) {
    if (outcome.rejection.code === 'PENDING_NOT_FOUND') {
      // The usual end of a hold the ledger refused: payouts rejects the withdrawal. Nothing is held.
      if (await holdWasRejected(trx, withdrawalId)) return;
      throw new NotYetError(`withdrawal ${withdrawalId} ended before its hold was placed`);
    }
    throw new Error(`cannot release withdrawal ${withdrawalId}: ${outcome.rejection.detail}`);
  }
  const { transfer } = outcome;
  const released = buildEvent(
    'ledger.withdrawal.hold-released.v1',
    {
      withdrawal_id: withdrawalId,
      user_id: canonicalId(event.data.user_id),
      amount: { amount: transfer.amount, currency: transfer.currency },
      transfer_id: transferId,
      reason_code: 'reason_code' in event.data ? event.data.reason_code : 'cancelled',
    },
    causedBy(event, withdrawalId),
  );
  await publishOutcome(trx, outcomeKey(released.type, withdrawalId), released);
}

async function holdWasRejected(trx: Transaction<LedgerDB>, withdrawalId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('ledger_outcomes')
    .select('key')
    .where('key', '=', outcomeKey('ledger.withdrawal.hold-rejected.v1', withdrawalId))
    .executeTakeFirst();
  return row !== undefined;
}
