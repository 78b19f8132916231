import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import { decideJudgeFee } from '../domain/claims.ts';
import {
  decideHoneypotFee,
  type HoneypotFeeEarned,
  type HoneypotFeeRecord,
  honeypotFeeTransfers,
} from '../domain/honeypots.ts';
import type { LedgerDB } from '../service.ts';
import { lockClaim } from './claims.ts';
import { type FlowDeps, moveOnce, payFromCampaign, reasonOf } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/**
 * A judge's fee for a review: campaign budget → judge, once per review, never above the claim's
 * judge fee, one per (claim, judge) and at most the claim's max_judges; retried until the claim is known.
 * A honeypot review's fee: the same line for the judge, funded by platform:quality through the
 * campaign's budget, never above the claim's judge fee, one per (judge, submission).
 */
export function qcHandlers(deps: FlowDeps): HandlerMap<LedgerDB> {
  return {
    'qc.review.fee-earned.v1': (event, trx) => payJudgeFee(deps, event, trx),
    'qc.honeypot.fee-earned.v1': (event, trx) => payHoneypotFee(deps, event, trx),
  };
}

/**
 * What a judge fee's transfer carries, whether the campaign or the platform funds it: the judge's
 * statement line reads the same for a honeypot review as for any other.
 */
function judgeFeeMetadata(ids: {
  reviewId: string;
  submissionId: string;
  campaignId: string;
  judgeId: string;
}): Record<string, string> {
  return {
    review_id: ids.reviewId,
    submission_id: ids.submissionId,
    campaign_id: ids.campaignId,
    judge_id: ids.judgeId,
  };
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

  const { claim, decided } = await reserveJudgeFee(deps, event.data.assignment_id, {
    ...base,
    fee,
    transferId,
  });
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
    metadata: judgeFeeMetadata({
      reviewId,
      submissionId: canonicalId(event.data.submission_id),
      campaignId,
      judgeId,
    }),
  });
  // Refused by the engine (the budget ran short): nothing moved, so the judge's place is given back.
  if (!moved.ok && claim) {
    await deps.db
      .deleteFrom('ledger_claim_judge_fees')
      .where('assignment_id', '=', claim.assignment_id)
      .where('judge_id', '=', judgeId)
      .where('review_id', '=', reviewId)
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

/**
 * Decides a fee against its claim and records the judge's place under it (`ledger_claim_judge_fees`,
 * keyed by the review, from which the transfer id derives) in a committed step of its own, BEFORE
 * the engine moves money. The handler's transaction may roll back after the engine's append (a
 * failure there, a crash); the row stands, so the next fee on the claim counts this judge (one per
 * judge, at most max_judges), and this fee's redelivery finds its own row and replays its transfer.
 * The claim's row is locked for the step only: one decision per claim at a time, and the handler's
 * transaction holds no lock this step could wait for.
 *
 * A refusal first asks the engine whether the fee's transfer was recorded after all (a row lost
 * before this design): if so it is a replay, its row is recorded and it is paid as recorded.
 */
async function reserveJudgeFee(
  deps: FlowDeps,
  assignmentId: string | undefined,
  earned: {
    review_id: string;
    campaign_id: string;
    judge_id: string;
    fee: { amount: number; currency: string };
    transferId: string;
  },
): Promise<{
  claim: Awaited<ReturnType<typeof lockClaim>>;
  decided: ReturnType<typeof decideJudgeFee>;
}> {
  return deps.db.transaction().execute(async (step) => {
    const claim = await lockClaim(step, assignmentId, `review ${earned.review_id}`);
    if (!claim) {
      // Tasks books a fee naming no claim as reported: the refusal names that, so it settles.
      const missing = { ok: false, reason_code: 'CLAIM_MISSING', detail: 'the fee names no claim' } as const;
      return { claim, decided: { ...missing, amount: earned.fee.amount } };
    }
    const paid = await step
      .selectFrom('ledger_claim_judge_fees')
      .select(['judge_id', 'review_id'])
      .where('assignment_id', '=', claim.assignment_id)
      .execute();
    let decided = decideJudgeFee(claim, paid, earned);
    if (!decided.ok) {
      const recorded = await deps.engine.getTransfer(earned.transferId);
      if (recorded) decided = { ok: true, amount: recorded.amount };
    }
    if (decided.ok) {
      await step
        .insertInto('ledger_claim_judge_fees')
        .values({
          assignment_id: claim.assignment_id,
          judge_id: earned.judge_id,
          review_id: earned.review_id,
        })
        .onConflict((oc) => oc.columns(['assignment_id', 'judge_id']).doNothing())
        .execute();
    }
    return { claim, decided };
  });
}

/**
 * A honeypot review's fee: platform:quality → the case's campaign budget → the judge, one linked
 * chain whose ids derive from the review. Decided against the case's claim (retried until the ledger
 * knows it) and recorded before the engine is asked (`reserveHoneypotFee`); a redelivery replays.
 */
async function payHoneypotFee(
  deps: FlowDeps,
  event: TesseraEvent<'qc.honeypot.fee-earned.v1'>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const { fee } = event.data;
  if (fee.amount === 0) return;
  const reviewId = canonicalId(event.data.review_id);
  const submissionId = canonicalId(event.data.submission_id);
  const campaignId = canonicalId(event.data.campaign_id);
  const judgeId = canonicalId(event.data.judge_id);
  const fundingId = transferIds.honeypotFunding(reviewId);
  const feeId = transferIds.honeypotFee(reviewId);
  const base = { review_id: reviewId, campaign_id: campaignId, judge_id: judgeId };
  const meta = causedBy(event, reviewId);
  const refused = async (reason_code: string) => {
    const failed = buildEvent('ledger.honeypot-fee.failed.v1', { ...base, amount: fee, reason_code }, meta);
    await publishOutcome(trx, outcomeKey(failed.type, reviewId), failed);
  };

  const earned = { ...base, submission_id: submissionId, fee };
  const decided = await reserveHoneypotFee(deps, event.data.assignment_id, earned, feeId);
  if (!decided.ok) {
    deps.logger.warn(
      { review_id: reviewId, ...decided },
      'honeypot fee refused: the claim does not allow it',
    );
    await refused(decided.reason_code);
    return;
  }

  const moved = await moveOnce(
    deps,
    honeypotFeeTransfers({
      fundingId,
      feeId,
      campaignId,
      judgeId,
      amount: { amount: decided.amount, currency: fee.currency },
      metadata: judgeFeeMetadata({ reviewId, submissionId, campaignId, judgeId }),
    }),
    [fundingId, feeId],
  );
  if (!moved.ok) {
    // Nothing moved (platform:quality may run a debit balance: an overflow, a bug): the place is
    // given back, so a redelivery decides again.
    await deps.db.deleteFrom('ledger_honeypot_fees').where('review_id', '=', reviewId).execute();
    await refused(reasonOf(moved.rejection).reason_code);
    return;
  }
  // On a replay of transfers recorded with other figures, what was recorded is announced.
  const paidFee = moved.transfers.find((t) => t.id === feeId);
  const paid = buildEvent(
    'ledger.honeypot-fee.paid.v1',
    {
      ...base,
      campaign_id: paidFee?.metadata.campaign_id ?? campaignId,
      judge_id: paidFee?.metadata.judge_id ?? judgeId,
      amount: { amount: paidFee?.amount ?? decided.amount, currency: fee.currency },
      transfer_ids: [fundingId, feeId],
    },
    meta,
  );
  await publishOutcome(trx, outcomeKey(paid.type, reviewId), paid);
}

/**
 * Decides a honeypot fee against its case's claim and records it (`ledger_honeypot_fees`, keyed by
 * the review the transfer ids derive from, unique per (judge, submission)) in a committed step of
 * its own, BEFORE the engine moves money, as `reserveJudgeFee` does: the handler's transaction may
 * roll back after the engine's append, and the row must stand, so that a second review of the
 * same case by the judge is refused and this one's redelivery replays its transfers. The claim's
 * row is locked for the step (NotYetError while the claim is unknown: the event is retried).
 *
 * A row the insert loses to (the same judge and case, another review, decided at the same time)
 * is read and decided again. A refusal first asks the engine whether the fee was recorded after
 * all: if so it is a replay, and paid as recorded.
 */
async function reserveHoneypotFee(
  deps: FlowDeps,
  assignmentId: string,
  earned: HoneypotFeeEarned,
  feeId: string,
): Promise<ReturnType<typeof decideHoneypotFee>> {
  return deps.db.transaction().execute(async (step) => {
    const claim = await lockClaim(step, assignmentId, `honeypot review ${earned.review_id}`);
    if (!claim) throw new Error(`honeypot review ${earned.review_id} names no claim`);
    const recorded = (): Promise<HoneypotFeeRecord[]> =>
      step
        .selectFrom('ledger_honeypot_fees')
        .select(['review_id', 'judge_id', 'submission_id'])
        .where((eb) =>
          eb.or([
            eb('review_id', '=', earned.review_id),
            eb.and([eb('judge_id', '=', earned.judge_id), eb('submission_id', '=', earned.submission_id)]),
          ]),
        )
        .execute();
    const record = async () =>
      (await step
        .insertInto('ledger_honeypot_fees')
        .values({
          review_id: earned.review_id,
          judge_id: earned.judge_id,
          submission_id: earned.submission_id,
          assignment_id: claim.assignment_id,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('review_id')
        .executeTakeFirst()) !== undefined;

    // Under the claim's lock: a real fee of this judge under it is decided in the same kind of step.
    const judgedForReal =
      (await step
        .selectFrom('ledger_claim_judge_fees')
        .select('review_id')
        .where('assignment_id', '=', claim.assignment_id)
        .where('judge_id', '=', earned.judge_id)
        .executeTakeFirst()) !== undefined;
    let decided = decideHoneypotFee(claim, await recorded(), earned, judgedForReal);
    if (decided.ok && !(await record())) {
      decided = decideHoneypotFee(claim, await recorded(), earned, judgedForReal);
    }
    if (!decided.ok) {
      const paid = await deps.engine.getTransfer(feeId);
      if (paid) {
        await record();
        decided = { ok: true, amount: paid.amount };
      }
    }
    return decided;
  });
}
