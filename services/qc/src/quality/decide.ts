import { accuracyOf, type JudgeRecord } from '../judges/decide.ts';

const DAY_MS = 86_400_000;

/**
 * The moment a judge's own stats are as of: the start (00:00 UTC) of the day `now` falls in. A
 * honeypot is scored when it is submitted, a real review only when its case settles; stats that
 * moved at once would tell a judge which review was a honeypot. As of the last completed day, a
 * day's honeypot shows only together with everything else scored and settled that day.
 */
export function statsCutoff(now: Date): Date {
  return new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
}

/** What QC keeps of a judge's record: the counters now, and as they stood at `recordDay`'s start. */
export interface KeptRecord {
  current: JudgeRecord;
  /** The UTC day (its start) of the judge's latest score; null: never scored through `scoreJudge`. */
  recordDay: Date | null;
  /** The record at `recordDay`'s start (before that day's first score). */
  dayStart: JudgeRecord;
}

/** The judge's reviews as of the cutoff, and the fees the counted ones earned then. */
export interface ReviewsAsOf {
  submitted: number;
  counted: number;
  earnings: { amount: number; currency: string }[];
}

export interface JudgeStats {
  accuracy: number;
  reviews_submitted: number;
  reviews_counted: number;
  agreement: number | null;
  removed: boolean;
  earnings: { amount: number; currency: string }[];
}

/**
 * The record as of the cutoff: when the judge was scored today (`recordDay` is today), the record at
 * today's start; otherwise nothing was scored since the cutoff and the counters now are the record
 * then.
 */
export function recordAsOf(kept: KeptRecord, now: Date): JudgeRecord {
  const cutoff = statsCutoff(now).getTime();
  return kept.recordDay !== null && kept.recordDay.getTime() >= cutoff ? kept.dayStart : kept.current;
}

/**
 * What a judge sees of their own record (`GET /reviews/me/stats`): every figure as of the start of
 * the current UTC day (`statsCutoff`), so that neither a honeypot (scored at submission) nor a real
 * review (scored when its case settles) moves them the moment it is scored. `removed` is now: the
 * removal itself is immediate (the judge is refused at once anyway).
 */
export function judgeStatsAsOf(
  kept: KeptRecord,
  reviews: ReviewsAsOf,
  removed: boolean,
  now: Date,
): JudgeStats {
  const record = recordAsOf(kept, now);
  const consensusAnswered = record.answered - record.honeypot_answered;
  return {
    accuracy: accuracyOf(record),
    reviews_submitted: reviews.submitted,
    reviews_counted: reviews.counted,
    agreement: consensusAnswered > 0 ? (record.correct - record.honeypot_correct) / consensusAnswered : null,
    removed,
    earnings: reviews.earnings,
  };
}
