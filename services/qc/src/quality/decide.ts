import { accuracyOf, type JudgeRecord } from '../judges/decide.ts';

const DAY_MS = 86_400_000;

/**
 * The moment a judge's own stats are as of: the start (00:00 UTC) of the day `now` falls in. A real
 * review is scored and paid when its case settles, a honeypot counted and paid as long after it as
 * a real case takes (and shown then: `shownRecord`); as of the last completed day, a day's counted
 * honeypot shows only together with everything else counted that day.
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

/**
 * The judge's reviews as of the cutoff, and the fees the counted ones earned then (honeypots' among
 * them, once counted); `honeypots`: those of the counted that were honeypots, and how many agreed.
 */
export interface ReviewsAsOf {
  submitted: number;
  counted: number;
  earnings: { amount: number; currency: string }[];
  honeypots: { correct: number; answered: number };
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
 * The record a judge is shown: their real reviews as scored (when their cases settled), and their
 * honeypots as counted (`reviews.honeypots`), never as scored. A honeypot is scored the moment it is
 * submitted (the removal rule reads it at once) but counted and paid only as late as a real case
 * settles; shown when scored, it would move the judge's accuracy apart from their counted reviews
 * and earnings, and tell them which review was a honeypot. Honeypots scored and never counted (those
 * before 0009, which were never paid) are not shown either: a counted review and a shown one are the
 * same thing.
 */
export function shownRecord(record: JudgeRecord, honeypots: ReviewsAsOf['honeypots']): JudgeRecord {
  return {
    correct: Math.max(0, record.correct - record.honeypot_correct) + honeypots.correct,
    answered: Math.max(0, record.answered - record.honeypot_answered) + honeypots.answered,
    honeypot_correct: honeypots.correct,
    honeypot_answered: honeypots.answered,
  };
}

/**
 * What a judge sees of their own record (`GET /reviews/me/stats`): every figure as of the start of
 * the current UTC day (`statsCutoff`), so that a real review (scored when its case settles) does not
 * move them the moment it is scored, and a honeypot shows when it is counted, as a real review would
 * (`shownRecord`). Agreement is over every review shown, honeypots (against their known verdict)
 * included: over the real ones only, a day's figures would tell how many of its counted reviews were
 * honeypots. `removed` is now: the removal itself is immediate (the judge is refused at once anyway).
 */
export function judgeStatsAsOf(
  kept: KeptRecord,
  reviews: ReviewsAsOf,
  removed: boolean,
  now: Date,
): JudgeStats {
  const record = shownRecord(recordAsOf(kept, now), reviews.honeypots);
  return {
    accuracy: accuracyOf(record),
    reviews_submitted: reviews.submitted,
    reviews_counted: reviews.counted,
    agreement: record.answered > 0 ? record.correct / record.answered : null,
    removed,
    earnings: reviews.earnings,
  };
}
