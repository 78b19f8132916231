import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import { decideReward } from '../domain/claims.ts';
import type { LedgerDB } from '../service.ts';
import { lockClaim } from './claims.ts';
import { type FlowDeps, payFromCampaign, reasonOf } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/**
 * An approved submission's reward: campaign budget → contributor, once per submission and once per
 * claim, never more than the claim reserved (tasks.assignment.claimed.v1, on the tasks stream: an
 * approval that overtook its claim is retried until the claim is known).
 */
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
  const base = { submission_id: submissionId, campaign_id: campaignId, contributor_id: contributorId };
  const meta = causedBy(event, submissionId);

  const { claim, decided } = await reserveReward(deps, event.data.assignment_id, {
    ...base,
    reward,
    transferId,
  });
  if (!decided.ok) {
    deps.logger.warn(
      { submission_id: submissionId, ...decided },
      'reward refused: the claim does not allow it',
    );
    // Nothing of it is owed: tasks books a reward once per claim, from the claim, and never for an
    // approval its claim refuses (another submission, contributor or task), so its owed stays put.
    const failed = buildEvent(
      'ledger.reward.failed.v1',
      { ...base, amount: { amount: 0, currency: reward.currency }, reason_code: decided.reason_code },
      meta,
    );
    await publishOutcome(trx, outcomeKey(failed.type, submissionId), failed);
    return;
  }
  if (decided.amount === 0) return;

  const { moved, remaining } = await payFromCampaign(deps, {
    transferId,
    campaignId,
    userId: contributorId,
    amount: { amount: decided.amount, currency: reward.currency },
    code: 'reward',
    metadata: {
      submission_id: submissionId,
      task_id: canonicalId(event.data.task_id),
      campaign_id: campaignId,
      contributor_id: contributorId,
      // How the verdict was reached, for the contributor's statement.
      ...(event.data.method ? { verdict: event.data.method } : {}),
    },
  });
  // Refused by the engine (the budget ran short): nothing moved, so the claim's reward is free again.
  if (!moved.ok && claim) {
    await deps.db
      .updateTable('ledger_claims')
      .set({ rewarded_submission_id: null })
      .where('assignment_id', '=', claim.assignment_id)
      .where('rewarded_submission_id', '=', submissionId)
      .execute();
  }
  const outcome = moved.ok
    ? buildEvent(
        'ledger.reward.paid.v1',
        {
          ...base,
          amount: { amount: moved.transfers[0]?.amount ?? decided.amount, currency: reward.currency },
          transfer_id: transferId,
          campaign_remaining: { amount: remaining, currency: reward.currency },
        },
        meta,
      )
    : buildEvent(
        'ledger.reward.failed.v1',
        {
          ...base,
          amount: { amount: decided.amount, currency: reward.currency },
          reason_code: reasonOf(moved.rejection).reason_code,
        },
        meta,
      );
  await publishOutcome(trx, outcomeKey(outcome.type, submissionId), outcome);
}

/**
 * Decides a reward against its claim and records the submission it goes to
 * (`rewarded_submission_id`, from which the transfer id derives) in a committed step of its own,
 * BEFORE the engine moves money, as `qc.ts:reserveJudgeFee` does for judges: a handler whose
 * transaction rolls back after the engine's append leaves the claim marked paid, so another
 * approval under it is refused CLAIM_ALREADY_PAID and this one's redelivery replays its transfer.
 * A refusal first asks the engine whether the reward's transfer was recorded after all.
 */
async function reserveReward(
  deps: FlowDeps,
  assignmentId: string | undefined,
  approval: {
    submission_id: string;
    campaign_id: string;
    contributor_id: string;
    reward: { amount: number; currency: string };
    transferId: string;
  },
): Promise<{ claim: Awaited<ReturnType<typeof lockClaim>>; decided: ReturnType<typeof decideReward> }> {
  return deps.db.transaction().execute(async (step) => {
    const claim = await lockClaim(step, assignmentId, `submission ${approval.submission_id}`);
    if (!claim) {
      return {
        claim,
        decided: { ok: false, reason_code: 'CLAIM_MISSING', detail: 'the approval names no claim' } as const,
      };
    }
    let decided = decideReward(claim, approval);
    if (!decided.ok) {
      const recorded = await deps.engine.getTransfer(approval.transferId);
      if (recorded) decided = { ok: true, amount: recorded.amount };
    }
    if (decided.ok && decided.amount > 0 && claim.rewarded_submission_id === null) {
      await step
        .updateTable('ledger_claims')
        .set({ rewarded_submission_id: approval.submission_id })
        .where('assignment_id', '=', claim.assignment_id)
        .execute();
    }
    return { claim, decided };
  });
}
