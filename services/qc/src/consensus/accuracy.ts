/**
 * How often a judge is right, estimated from their track record.
 *
 * We use the "one-coin" model: a judge is right with one probability q whatever the true verdict,
 * and q is the mean of a Beta posterior. The prior Beta(3, 1) is worth four pseudo-reviews, three
 * of them right: a new judge starts at 0.75, trusted more than a coin but less than a proven judge,
 * and a handful of real reviews is enough to move them either way.
 */

/** Pseudo-reviews a new judge is credited with having got right (the Beta prior's alpha). */
export const PRIOR_CORRECT = 3;
/** Pseudo-reviews a new judge is credited with having got wrong (the Beta prior's beta). */
export const PRIOR_WRONG = 1;
/** The accuracy of a judge with no record: 3 / 4. */
export const NEW_JUDGE_ACCURACY = PRIOR_CORRECT / (PRIOR_CORRECT + PRIOR_WRONG);

/** A judge's record: reviews whose answer agreed with the settled truth, out of those answered. */
export interface JudgeRecord {
  readonly correct: number;
  readonly answered: number;
}

/** The posterior mean accuracy, (3 + correct) / (4 + answered). */
export function judgeAccuracy({ correct, answered }: JudgeRecord): number {
  if (!(correct >= 0 && answered >= correct)) {
    throw new RangeError(`a judge record needs 0 <= correct <= answered, got ${correct}/${answered}`);
  }
  return (PRIOR_CORRECT + correct) / (PRIOR_CORRECT + PRIOR_WRONG + answered);
}
