import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import { sql, type Transaction } from 'kysely';
import { accountIds } from '../domain/accounts.ts';
import { decidePromotion, promotionPeriod } from '../domain/promotions.ts';
import type { LedgerDB } from '../service.ts';
import { type FlowDeps, moveOnce } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/**
 * Money bonuses and referral rewards: the platform's promotions expense → the user, once each,
 * within the month's promotions budget (LEDGER_PROMOTIONS_BUDGET_MINOR per currency). One beyond it
 * moves nothing and is recorded as refused in `ledger_promotions` (logged, not retried).
 */
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
  const key = `${promotion.kind}:${promotion.sourceId}`;
  const decided = await withinBudget(deps, trx, key, promotion.userId, amount);
  if (!decided.ok) {
    deps.logger.warn(
      { promotion: key, user_id: promotion.userId, amount, reason_code: decided.reason_code },
      'promotion refused: beyond the promotions budget',
    );
    return;
  }
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
  await publishOutcome(trx, outcomeKey(paid.type, key), paid);
}

/**
 * Counts a promotion against its period's budget, once: the period's row is locked for the
 * handler's transaction, and a promotion decided before (a redelivery) keeps its first decision.
 * The period is when the ledger first decides, never a time the event claims.
 */
async function withinBudget(
  deps: FlowDeps,
  trx: Transaction<LedgerDB>,
  key: string,
  userId: string,
  amount: { amount: number; currency: string },
): Promise<{ ok: true } | { ok: false; reason_code: string }> {
  const decidedBefore = await trx
    .selectFrom('ledger_promotions')
    .select(['status', 'reason_code'])
    .where('promotion_key', '=', key)
    .executeTakeFirst();
  if (decidedBefore) {
    return decidedBefore.status === 'paid'
      ? { ok: true }
      : { ok: false, reason_code: decidedBefore.reason_code ?? 'REFUSED' };
  }
  const period = promotionPeriod(new Date());
  await trx
    .insertInto('ledger_promotion_periods')
    .values({ period, currency: amount.currency, spent: 0 })
    .onConflict((oc) => oc.columns(['period', 'currency']).doNothing())
    .execute();
  const row = await trx
    .selectFrom('ledger_promotion_periods')
    .select('spent')
    .where('period', '=', period)
    .where('currency', '=', amount.currency)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const decided = decidePromotion({
    spent: Number(row.spent),
    budget: deps.promotionsBudget,
    amount: amount.amount,
  });
  await trx
    .insertInto('ledger_promotions')
    .values({
      promotion_key: key,
      user_id: userId,
      period,
      currency: amount.currency,
      amount: amount.amount,
      status: decided.ok ? 'paid' : 'refused',
      reason_code: decided.ok ? null : decided.reason_code,
    })
    .execute();
  if (decided.ok) {
    await trx
      .updateTable('ledger_promotion_periods')
      .set({ spent: sql<number>`spent + ${amount.amount}` })
      .where('period', '=', period)
      .where('currency', '=', amount.currency)
      .execute();
  }
  return decided;
}
