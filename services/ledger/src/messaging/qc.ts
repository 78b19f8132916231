import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import type { LedgerDB } from '../service.ts';
import { type FlowDeps, payFromCampaign, reasonOf } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/** A judge's fee for a review: campaign budget → judge, once per review. */
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
  const { moved, remaining } = await payFromCampaign(deps, {
    transferId,
    campaignId,
    userId: judgeId,
    amount: fee,
    code: 'judge_fee',
    metadata: {
      review_id: reviewId,
      submission_id: canonicalId(event.data.submission_id),
      campaign_id: campaignId,
      judge_id: judgeId,
    },
  });
  const base = { review_id: reviewId, campaign_id: campaignId, judge_id: judgeId };
  const meta = causedBy(event, reviewId);
  const outcome = moved.ok
    ? buildEvent(
        'ledger.judge-fee.paid.v1',
        {
          ...base,
          amount: { amount: moved.transfers[0]?.amount ?? fee.amount, currency: fee.currency },
          transfer_id: transferId,
          campaign_remaining: { amount: remaining, currency: fee.currency },
        },
        meta,
      )
    : buildEvent(
        'ledger.judge-fee.failed.v1',
        { ...base, amount: fee, reason_code: reasonOf(moved.rejection).reason_code },
        meta,
      );
  await publishOutcome(trx, outcomeKey(outcome.type, reviewId), outcome);
}
