import { accept, type Decision, refusal, reject } from '@tessera/service-kit';
import type { ReviewStatus } from '../db/schema.ts';

export const reviewRefusals = {
  notFound: () => refusal('not_found', 'REVIEW_NOT_FOUND', 'No such review, or not yours.'),
  nothingToReview: () =>
    refusal(
      'not_found',
      'NO_REVIEW_AVAILABLE',
      'There is nothing for you to review right now; try again later.',
    ),
  alreadySubmitted: () =>
    refusal('conflict', 'REVIEW_ALREADY_SUBMITTED', 'You already submitted this review.'),
  leaseExpired: () =>
    refusal(
      'conflict',
      'LEASE_EXPIRED',
      'Your lease on this review ended (it expired or you released it); it went back to the pool.',
    ),
  badAnswer: (detail: string) => refusal('unprocessable', 'INVALID_ANSWER', detail),
};

/** Where a review stands, as submitting or releasing it needs to know. */
export interface ReviewState {
  judge_id: string;
  status: ReviewStatus;
  lease_expires_at: Date;
}

/**
 * Whether `judgeId` may still act on the review (submit or release it): it is theirs (else it does
 * not exist for them), not submitted yet, and its lease is still running.
 */
export function decideLeaseHeld(
  review: ReviewState,
  command: { judgeId: string; now: Date },
): Decision<void> {
  if (review.judge_id !== command.judgeId) return reject(reviewRefusals.notFound());
  if (review.status === 'submitted' || review.status === 'discarded')
    return reject(reviewRefusals.alreadySubmitted());
  if (review.status !== 'leased' || review.lease_expires_at.getTime() <= command.now.getTime())
    return reject(reviewRefusals.leaseExpired());
  return accept(undefined);
}

/**
 * Whether a new lease is a honeypot turn (a honeypot is served if one the judge may take exists).
 * A judge whose latest honeypot lease ended unanswered (released, or run out) owes one: this lease
 * is a honeypot turn, so giving a honeypot back is never a free skip. Otherwise the turn comes with
 * probability 1 / `every`, from `draw`, uniform in [0, 1) and unknown to the judge, so no count of
 * leases tells a honeypot is next. `every` 0: never.
 */
export function decideHoneypotTurn(
  lastHoneypot: Pick<ReviewState, 'status' | 'lease_expires_at'> | undefined,
  command: { every: number; draw: number; now: Date },
): boolean {
  if (command.every <= 0) return false;
  const unanswered =
    lastHoneypot !== undefined &&
    (lastHoneypot.status === 'released' ||
      lastHoneypot.status === 'expired' ||
      (lastHoneypot.status === 'leased' && lastHoneypot.lease_expires_at.getTime() <= command.now.getTime()));
  return unanswered || command.draw < 1 / command.every;
}

/**
 * Which of `count` candidate cases (oldest first) a lease takes: the one `draw` (uniform in [0, 1),
 * unknown to the judge) falls on, so judges leasing one after another cannot steer themselves onto
 * the same case. One candidate is taken whatever the draw.
 */
export function decidePick(count: number, draw: number): number {
  if (count <= 1) return 0;
  return Math.min(count - 1, Math.max(0, Math.floor(draw * count)));
}

/**
 * How long after its submission a honeypot review is counted and paid: as long as a real review
 * took, one of the latest real settlements (`settledMs`: each a counted real review's time from its
 * submission to its case's settlement) drawn at random (`draw`, uniform in [0, 1), unknown to the
 * judge), so that neither the moment a honeypot pays nor its spread over many tells it from real
 * work. No settlement known yet: `fallbackMs`.
 */
export function decideHoneypotFeeDelay(
  settledMs: readonly number[],
  draw: number,
  fallbackMs: number,
): number {
  if (settledMs.length === 0) return fallbackMs;
  return Math.max(0, Math.round(settledMs[decidePick(settledMs.length, draw)]!));
}

/**
 * The answer a judge gives with the verdict, checked against the task: the option of a validation
 * (or multiple-choice linguasense) task, the preference of an RLHF pair, the labels of a labelling
 * image task (from its label set). Task types without an answer take none. Null when none is given.
 */
export function decideAnswer(
  taskType: string,
  input: Record<string, unknown>,
  answer: Record<string, unknown> | undefined,
): Decision<Record<string, unknown> | null> {
  if (answer === undefined) return accept(null);
  const keys = Object.keys(answer);
  const only = (key: string) => keys.length === 1 && keys[0] === key;
  const options = Array.isArray(input.options) ? (input.options as string[]) : null;
  switch (taskType) {
    case 'validation':
    case 'linguasense':
      if (options === null) break;
      if (!only('option') || typeof answer.option !== 'string' || !options.includes(answer.option))
        return reject(
          reviewRefusals.badAnswer(`Answer with {"option"} set to one of: ${options.join(', ')}.`),
        );
      return accept({ option: answer.option });
    case 'rlhf':
      if (!only('preferred') || !['a', 'b', 'tie'].includes(answer.preferred as string))
        return reject(reviewRefusals.badAnswer('Answer with {"preferred": "a" | "b" | "tie"}.'));
      return accept({ preferred: answer.preferred });
    case 'image': {
      const labels = Array.isArray(input.labels) ? (input.labels as string[]) : [];
      if (labels.length === 0) break;
      const raw = answer.labels;
      const given = Array.isArray(raw) && raw.length <= 200 ? [...new Set(raw as unknown[])] : null;
      if (
        !only('labels') ||
        given === null ||
        given.length === 0 ||
        !given.every((label) => typeof label === 'string' && labels.includes(label))
      )
        return reject(
          reviewRefusals.badAnswer(`Answer with {"labels"} from the task's labels: ${labels.join(', ')}.`),
        );
      if (input.multi_label !== true && given.length > 1)
        return reject(reviewRefusals.badAnswer('This task takes one label.'));
      return accept({ labels: (given as string[]).sort() });
    }
  }
  return reject(reviewRefusals.badAnswer(`A ${taskType} review takes no answer besides the verdict.`));
}
