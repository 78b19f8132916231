import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import { decideJudgeFee } from '../domain/claims.ts';
import type { LedgerDB } from '../service.ts';
import { lockClaim } from './claims.ts';
import { type FlowDeps, payFromCampaign, reasonOf } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/**
 * A judge's fee for a review: campaign budget → judge, once per review, never above the claim's
 * judge fee, one per (claim, judge) and at most the claim's max_judges; retried until the claim is known.
 */
export function qcHandlers(deps: FlowDeps): HandlerMap<LedgerDB> {
  return { 'qc.review.fee-earned.v1': (event, trx) => payJudgeFee(deps, event, trx) };
}

async function payJudgeFee(
  deps: FlowDeps,
  event: TesseraEvent<'qc.review.fee-earned.v1'>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const { fee } = event.data;
  if (fee.amount === 0) return;
  const reviewId = canonicalId(event.data.review_id);
  const campaignId = canonicalId(event.data.campaign_id);
  const judgeId = canonicalId(event.data.judge_id);
  const transferId = transferIds.judgeFee(reviewId);
  const base = { review_id: reviewId, campaign_id: campaignId, judge_id: judgeId };
  const meta = causedBy(event, reviewId);

  const claim = await lockClaim(trx, event.data.assignment_id, `review ${reviewId}`);
  const paid = claim
    ? await trx
        .selectFrom('ledger_claim_judge_fees')
        .select(['judge_id', 'review_id'])
        .where('assignment_id', '=', claim.assignment_id)
        .execute()
    : [];
  const decided = claim
    ? decideJudgeFee(claim, paid, { review_id: reviewId, campaign_id: campaignId, judge_id: judgeId, fee })
    : // Tasks books a fee naming no claim as reported: the refusal names that, so it settles.
      ({
        ok: false,
        reason_code: 'CLAIM_MISSING',
        detail: 'the fee names no claim',
        amount: fee.amount,
      } as const);
  if (!decided.ok) {
    deps.logger.warn({ review_id: reviewId, ...decided }, 'judge fee refused: the claim does not allow it');
    // Tasks booked this fee as owed on the claim's campaign, at most the claim's fee: the answer
    // names that campaign and amount, so tasks' owed settles rather than drifts.
    const failed = buildEvent(
      'ledger.judge-fee.failed.v1',
      {
        ...base,
        campaign_id: claim?.campaign_id ?? campaignId,
        amount: { amount: decided.amount, currency: claim?.currency ?? fee.currency },
        reason_code: decided.reason_code,
      },
      meta,
    );
    await publishOutcome(trx, outcomeKey(failed.type, reviewId), failed);
    return;
  }

  const { moved, remaining } = await payFromCampaign(deps, {
    transferId,
    campaignId,
    userId: judgeId,
    amount: { amount: decided.amount, currency: fee.currency },
    code: 'judge_fee',
    metadata: {
      review_id: reviewId,
      submission_id: canonicalId(event.data.submission_id),
      campaign_id: campaignId,
      judge_id: judgeId,
    },
  });
  if (moved.ok && claim) {
    await trx
      .insertInto('ledger_claim_judge_fees')
      .values({ assignment_id: claim.assignment_id, judge_id: judgeId, review_id: reviewId })
      .onConflict((oc) => oc.columns(['assignment_id', 'judge_id']).doNothing())
      .execute();
  }
  const outcome = moved.ok
    ? buildEvent(
        'ledger.judge-fee.paid.v1',
        {
          ...base,
          amount: { amount: moved.transfers[0]?.amount ?? decided.amount, currency: fee.currency },
          transfer_id: transferId,
          campaign_remaining: { amount: remaining, currency: fee.currency },
        },
        meta,
      )
    : buildEvent(
        'ledger.judge-fee.failed.v1',
        {
          ...base,
          amount: { amount: decided.amount, currency: fee.currency },
          reason_code: reasonOf(moved.rejection).reason_code,
        },
        meta,
      );
  await publishOutcome(trx, outcomeKey(outcome.type, reviewId), outcome);
}
