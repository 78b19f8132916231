import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import type { LedgerDB } from '../service.ts';
import { type FlowDeps, payFromCampaign, reasonOf } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/** An approved submission's reward: campaign budget → contributor, once per submission. */
export function submissionHandlers(deps: FlowDeps): HandlerMap<LedgerDB> {
  return { 'submissions.submission.approved.v1': (event, trx) => payReward(deps, event, trx) };
}

async function payReward(
  deps: FlowDeps,
  event: TesseraEvent<'submissions.submission.approved.v1'>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const { reward } = event.data;
  // An XP-only task: no money to move, nothing to announce.
  if (reward.amount === 0) return;
  const submissionId = canonicalId(event.data.submission_id);
  const campaignId = canonicalId(event.data.campaign_id);
  const contributorId = canonicalId(event.data.contributor_id);
  const transferId = transferIds.reward(submissionId);
  const { moved, remaining } = await payFromCampaign(deps, {
    transferId,
    campaignId,
    userId: contributorId,
    amount: reward,
    code: 'reward',
    metadata: {
      submission_id: submissionId,
      task_id: canonicalId(event.data.task_id),
      campaign_id: campaignId,
      contributor_id: contributorId,
    },
  });
  const base = { submission_id: submissionId, campaign_id: campaignId, contributor_id: contributorId };
  const meta = causedBy(event, submissionId);
  const outcome = moved.ok
    ? buildEvent(
        'ledger.reward.paid.v1',
        {
          ...base,
          amount: { amount: moved.transfers[0]?.amount ?? reward.amount, currency: reward.currency },
          transfer_id: transferId,
          campaign_remaining: { amount: remaining, currency: reward.currency },
        },
        meta,
      )
    : buildEvent(
        'ledger.reward.failed.v1',
        { ...base, amount: reward, reason_code: reasonOf(moved.rejection).reason_code },
        meta,
      );
  await publishOutcome(trx, outcomeKey(outcome.type, submissionId), outcome);
}
