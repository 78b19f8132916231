import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import { accountIds } from '../domain/accounts.ts';
import type { LedgerDB } from '../service.ts';
import { type FlowDeps, moveOnce } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/** Money bonuses and referral rewards: the platform's promotions expense → the user, once each. */
export function engagementHandlers(deps: FlowDeps): HandlerMap<LedgerDB> {
  return {
    'engagement.bonus.awarded.v1': (event, trx) =>
      promote(deps, event, trx, {
        kind: 'bonus',
        sourceId: canonicalId(event.data.bonus_id),
        userId: canonicalId(event.data.user_id),
        transferId: transferIds.bonus(event.data.bonus_id),
        metadata: { reason_code: event.data.reason_code },
      }),
    'engagement.referral.rewarded.v1': (event, trx) =>
      promote(deps, event, trx, {
        kind: 'referral',
        sourceId: canonicalId(event.data.referral_id),
        userId: canonicalId(event.data.referrer_id),
        transferId: transferIds.referral(event.data.referral_id),
        metadata: { referred_user_id: canonicalId(event.data.referred_user_id) },
      }),
  };
}

async function promote(
  deps: FlowDeps,
  event: TesseraEvent<'engagement.bonus.awarded.v1' | 'engagement.referral.rewarded.v1'>,
  trx: Transaction<LedgerDB>,
  promotion: {
    kind: 'bonus' | 'referral';
    sourceId: string;
    userId: string;
    transferId: string;
    metadata: Record<string, string>;
  },
): Promise<void> {
  const { amount } = event.data;
  if (amount.amount === 0) return;
  const moved = await moveOnce(deps, [
    {
      id: promotion.transferId,
      debit_account: accountIds.platformPromotions,
      credit_account: accountIds.userAvailable(promotion.userId),
      amount: amount.amount,
      currency: amount.currency,
      code: 'bonus',
      metadata: {
        kind: promotion.kind,
        source_id: promotion.sourceId,
        user_id: promotion.userId,
        ...promotion.metadata,
      },
    },
  ]);
  if (!moved.ok) {
    // Promotions may run a debit balance, so only a bug (or an overflow) refuses this: dead-letter it.
    throw new Error(
      `promotion ${promotion.sourceId} was refused: ${moved.rejection.code} ${moved.rejection.detail}`,
    );
  }
  const paid = buildEvent(
    'ledger.promotion.paid.v1',
    {
      user_id: promotion.userId,
      kind: promotion.kind,
      source_id: promotion.sourceId,
      amount: { amount: moved.transfers[0]?.amount ?? amount.amount, currency: amount.currency },
      transfer_id: promotion.transferId,
    },
    causedBy(event, promotion.userId),
  );
  await publishOutcome(trx, outcomeKey(paid.type, `${promotion.kind}:${promotion.sourceId}`), paid);
}
