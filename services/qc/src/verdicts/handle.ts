import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta } from '@tessera/service-kit';
import type { Kysely, Selectable } from 'kysely';
import type { CasesTable, QcDB, VerdictMethod, VerdictValue } from '../db/schema.ts';
import { scoreJudge } from '../judges/repository.ts';
import type { VerdictDetails } from './decide.ts';

type Db = Kysely<QcDB>;
export type CaseRecord = Selectable<CasesTable>;

export interface Settlement {
  verdict: VerdictValue;
  method: VerdictMethod;
  confidence: number;
  details: VerdictDetails;
  /** Set when the verdict decides an appeal. */
  appealId?: string;
}

/**
 * Settles a case, in the caller's transaction (the case row is locked): records the verdict and
 * publishes it; each review that counted toward it earns its judge the fee the claim fixed
 * (`qc.review.fee-earned.v1`, once per review: `counted_at` is set once); and the judges' records
 * learn whether they agreed with the verdict, the evidence their accuracy is estimated from. An
 * appeal decision pays and scores nobody: the judges were paid and scored when they judged (and
 * the appeal of a settled case does not come here: admin/handle.ts `decideQueueItem` keeps the
 * case's verdict and records the appeal's decision with the appeal).
 */
export async function settleCase(
  trx: Db,
  decided: CaseRecord,
  settlement: Settlement,
  context: { now: Date; cause?: Cause },
): Promise<void> {
  const { now, cause } = context;
  const { verdict, method, confidence, details } = settlement;
  await trx
    .updateTable('cases')
    .set({
      status: 'decided',
      verdict,
      method,
      confidence,
      quality_score: details.qualityScore,
      reason_codes: details.reasonCodes,
      final_answer: details.answer === null ? null : JSON.stringify(details.answer),
      answer_confidence: details.answerConfidence,
      decided_at: now,
    })
    .where('id', '=', decided.id)
    .execute();
  // The verdict goes after the reviews it counted, on QC's stream: a reader of both (tasks) has
  // seen every fee of a verdict once it sees the verdict, and frees what the claim held for more.
  const events: TesseraEvent[] =
    method !== 'appeal' ? await countReviews(trx, decided, verdict, now, cause) : [];
  events.push(verdictReached(decided, settlement, context));
  await appendToOutbox(trx, events);
}

/** The verdict as submissions learns it (`qc.submission.verdict-reached.v1`). */
export function verdictReached(
  decided: CaseRecord,
  settlement: Settlement,
  context: { now: Date; cause?: Cause },
): TesseraEvent {
  const { verdict, method, confidence, details } = settlement;
  return buildEvent(
    'qc.submission.verdict-reached.v1',
    {
      submission_id: decided.submission_id,
      revision: decided.revision,
      verdict,
      method,
      confidence,
      quality_score: details.qualityScore,
      reason_codes: details.reasonCodes,
      answer: details.answer,
      answer_confidence: details.answerConfidence,
      ...(settlement.appealId ? { appeal_id: settlement.appealId } : {}),
    },
    eventMeta(decided.submission_id, context.now, context.cause),
  );
}

/** The case's submitted reviews not counted yet: each is counted (an event for engagement), earns its fee and scores its judge, once. */
async function countReviews(
  trx: Db,
  decided: CaseRecord,
  verdict: VerdictValue,
  now: Date,
  cause: Cause | undefined,
): Promise<TesseraEvent[]> {
  const fee = Number(decided.judge_fee_amount);
  const counted = await trx
    .updateTable('reviews')
    .set({ counted_at: now, fee_amount: fee })
    .where('case_id', '=', decided.id)
    .where('kind', '=', 'consensus')
    .where('status', '=', 'submitted')
    .where('counted_at', 'is', null)
    .returning(['id', 'judge_id', 'verdict'])
    .execute();
  const events: TesseraEvent[] = [];
  // Judges are locked in one order (by id) in every transaction: two cases sharing judges, counted
  // at once, would otherwise lock their rows in opposite orders and deadlock (seen under chaos).
  counted.sort((a, b) => (a.judge_id < b.judge_id ? -1 : a.judge_id > b.judge_id ? 1 : 0));
  for (const review of counted) {
    await scoreJudge(trx, review.judge_id, { correct: review.verdict === verdict ? 1 : 0, answered: 1 }, now);
    events.push(
      buildEvent(
        'qc.review.counted.v1',
        {
          review_id: review.id,
          submission_id: decided.submission_id,
          judge_id: review.judge_id,
          agreed: review.verdict === verdict,
        },
        eventMeta(review.id, now, cause),
      ),
    );
    if (fee > 0) {
      events.push(
        buildEvent(
          'qc.review.fee-earned.v1',
          {
            review_id: review.id,
            submission_id: decided.submission_id,
            assignment_id: decided.assignment_id,
            campaign_id: decided.campaign_id,
            judge_id: review.judge_id,
            fee: { amount: fee, currency: decided.currency },
          },
          eventMeta(review.id, now, cause),
        ),
      );
    }
  }
  return events;
}

/** A case, locked. */
export async function lockCase(trx: Db, id: string): Promise<CaseRecord | undefined> {
  return trx.selectFrom('cases').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}
