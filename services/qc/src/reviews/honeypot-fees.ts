import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox, createLogger, eventMeta, type Logger } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { Random } from '../consensus/prng.ts';
import type { QcDB } from '../db/schema.ts';
import { decideHoneypotFeeDelay } from './decide.ts';

type Db = Kysely<QcDB>;

/** How many of the latest real settlements a honeypot's delay is drawn from. */
export const SETTLEMENTS_SAMPLED = 200;

export interface HoneypotFeeRules {
  /** The delay when QC has no real settlement to sample yet (QC_HONEYPOT_FEE_DELAY_SECONDS). */
  fallbackMs: number;
  /** Where the settlement is drawn from (the source honeypot turns are drawn from). */
  random: Random;
}

/**
 * When a honeypot review submitted at `submittedAt` is counted and paid: as long after it as one of
 * the latest `SETTLEMENTS_SAMPLED` real reviews counted took from their submission to their case's
 * settlement, drawn at random (`decideHoneypotFeeDelay`). A real review pays when its case settles,
 * seconds to days after it; a honeypot paid at once (or never) would tell the judge it was one.
 * A draw is taken only when there is a choice (two settlements or more).
 */
export async function honeypotFeeDueAt(trx: Db, submittedAt: Date, rules: HoneypotFeeRules): Promise<Date> {
  const settled = await trx
    .selectFrom('reviews')
    .select(sql<number>`(extract(epoch from (counted_at - submitted_at)) * 1000)::float8`.as('ms'))
    .where('kind', '=', 'consensus')
    .where('counted_at', 'is not', null)
    .where('submitted_at', 'is not', null)
    // The votes of one case are counted at once: the latest submitted (the quickest settled) first.
    .orderBy('counted_at', 'desc')
    .orderBy('submitted_at', 'desc')
    .limit(SETTLEMENTS_SAMPLED)
    .execute();
  const samples = settled.map((row) => row.ms);
  const draw = samples.length > 1 ? rules.random() : 0;
  return new Date(submittedAt.getTime() + decideHoneypotFeeDelay(samples, draw, rules.fallbackMs));
}

/** A run of the honeypot-fees worker: batches of this many reviews, each in one transaction... */
export const HONEYPOT_FEES_BATCH = 100;
/** ...and at most this many batches a run (a full run is followed by another at once). */
export const HONEYPOT_FEES_BATCHES = 10;

/** What one batch of due honeypot reviews reads: the review and its case's terms. */
interface DueHoneypot {
  id: string;
  judge_id: string;
  honeypot_agreed: boolean | null;
  submission_id: string;
  assignment_id: string;
  campaign_id: string;
  judge_fee_amount: number;
  currency: string;
}

/**
 * Counts and pays the honeypot reviews that fell due (`fee_due_at` passed), as `settleCase` counts
 * the reviews of a real case: each is counted once (`counted_at` set once, with the fee it earned:
 * its case's judge fee, what a real review of that case earned), engagement learns of it
 * (`qc.review.counted.v1`, `agreed`: its verdict matched the honeypot's known one) and, for a fee
 * above zero, the ledger pays it from the platform's account (`qc.honeypot.fee-earned.v1`), in the
 * same transaction. Batches of `batchSize`, the oldest due first, each in one transaction, the rows
 * locked without waiting (`skip locked`): two runs at once (two instances) never take the same
 * review. Up to `maxBatches` batches a run; returns how many were counted.
 */
export async function payDueHoneypotFees(
  db: Db,
  now: Date,
  options: { batchSize?: number; maxBatches?: number; logger?: Logger } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? HONEYPOT_FEES_BATCH;
  const maxBatches = options.maxBatches ?? HONEYPOT_FEES_BATCHES;
  let counted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const { taken, done } = await db
      .transaction()
      .execute((trx) => payBatch(trx, now, batchSize, options.logger));
    counted += done;
    // A short batch was the last due; a batch of which none could be counted would come again.
    if (taken < batchSize || done === 0) break;
  }
  return counted;
}

async function payBatch(
  trx: Db,
  now: Date,
  batchSize: number,
  logger: Logger | undefined,
): Promise<{ taken: number; done: number }> {
  const due: DueHoneypot[] = await trx
    .selectFrom('reviews as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select([
      'r.id',
      'r.judge_id',
      'r.honeypot_agreed',
      'c.submission_id',
      'c.assignment_id',
      'c.campaign_id',
      'c.judge_fee_amount',
      'c.currency',
    ])
    // The partial index reviews_honeypot_fees_due (0010): kind and counted_at as its predicate says.
    .where('r.kind', '=', 'honeypot')
    .where('r.counted_at', 'is', null)
    .where('r.fee_due_at', '<=', now)
    .where('r.status', '=', 'submitted')
    .orderBy('r.fee_due_at')
    .orderBy('r.id')
    .limit(batchSize)
    // Only the review rows: the case's terms never change, and its row is the judges' to lock.
    .forUpdate(['r'])
    .skipLocked()
    .execute();
  // Built (and checked against the contract) before anything is written: a review whose events do
  // not pass stays due, logged, and holds up none of the others.
  const built = new Map<string, TesseraEvent[]>();
  for (const review of due) {
    try {
      built.set(review.id, honeypotEvents(review, now));
    } catch (error) {
      (logger ?? fallbackLogger()).error(
        { err: error, review_id: review.id },
        'a due honeypot review could not be counted; the others go on',
      );
    }
  }
  if (built.size === 0) return { taken: due.length, done: 0 };
  // Counted once: only a review this update counted has its events written.
  const counted = await trx
    .updateTable('reviews')
    .set({
      counted_at: now,
      fee_amount: (eb) =>
        eb.selectFrom('cases').select('cases.judge_fee_amount').whereRef('cases.id', '=', 'reviews.case_id'),
    })
    .where('id', 'in', [...built.keys()])
    .where('counted_at', 'is', null)
    .returning('id')
    .execute();
  const countedIds = new Set(counted.map((row) => row.id));
  // In the batch's order (the oldest due first), each review's counted event before its fee.
  await appendToOutbox(
    trx,
    due.filter((review) => countedIds.has(review.id)).flatMap((review) => built.get(review.id) ?? []),
  );
  return { taken: due.length, done: countedIds.size };
}

let fallback: Logger | undefined;
/** For a run without a logger (a test calling the job by hand). */
function fallbackLogger(): Logger {
  fallback ??= createLogger({ name: 'honeypot-fees', level: 'warn', pretty: false });
  return fallback;
}

/** A due honeypot review's events: counted, and paid when its case's judge fee is above zero. */
function honeypotEvents(review: DueHoneypot, now: Date): TesseraEvent[] {
  const fee = Number(review.judge_fee_amount);
  const events: TesseraEvent[] = [
    buildEvent(
      'qc.review.counted.v1',
      {
        review_id: review.id,
        submission_id: review.submission_id,
        judge_id: review.judge_id,
        agreed: review.honeypot_agreed === true,
      },
      eventMeta(review.id, now),
    ),
  ];
  if (fee > 0) {
    events.push(
      buildEvent(
        'qc.honeypot.fee-earned.v1',
        {
          review_id: review.id,
          submission_id: review.submission_id,
          assignment_id: review.assignment_id,
          campaign_id: review.campaign_id,
          judge_id: review.judge_id,
          fee: { amount: fee, currency: review.currency },
        },
        eventMeta(review.id, now),
      ),
    );
  }
  return events;
}
