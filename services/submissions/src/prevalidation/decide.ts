import { orderReasons, type PrevalidationReason } from './reasons.ts';

/** What the checks and the duplicate lookups found about one hand-in. */
export interface ScreeningFacts {
  /** Reasons from the audio, image and text checks. */
  checkReasons: PrevalidationReason[];
  /** An earlier submission with the very same content (same SHA-256), if any. */
  exactDuplicate: boolean;
  /** An earlier image in the campaign whose perceptual hash is within the near-duplicate distance. */
  nearDuplicateImage: boolean;
  /** An earlier text in the campaign with the same normalised text. */
  duplicateText: boolean;
}

export type ScreeningOutcome = { pass: true } | { pass: false; reasons: PrevalidationReason[] };

/** Pre-validation passes only when no check and no duplicate lookup found anything. */
export function decideScreening(facts: ScreeningFacts): ScreeningOutcome {
  const reasons: PrevalidationReason[] = [...facts.checkReasons];
  if (facts.exactDuplicate) reasons.push('CONTENT_DUPLICATE');
  if (facts.nearDuplicateImage) reasons.push('IMAGE_NEAR_DUPLICATE');
  if (facts.duplicateText) reasons.push('TEXT_DUPLICATE');
  return reasons.length === 0 ? { pass: true } : { pass: false, reasons: orderReasons(reasons) };
}

/**
 * A hand-in our own machinery could not screen (a storage or decoder fault, not the work) goes to
 * people after this many attempts instead of being rejected: a fault of ours never costs a
 * contributor their reward.
 */
export const MAX_SCREENING_ATTEMPTS = 5;

/**
 * How long a hand-in waits after its 1st, 2nd, 3rd and 4th failed attempt: long enough that a
 * storage or database outage of a few minutes does not use up its attempts (about 12.5 minutes in
 * all before it goes to people unscreened), and the hand-ins behind it are screened meanwhile.
 */
export const SCREENING_RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000] as const;

export type AfterFault = { retry: true; at: Date } | { retry: false };

/**
 * What follows a failed attempt, the `attempts`-th (counting it): another one later, or review
 * unscreened. Work whose task we do not know (its read-model row is missing) cannot be handed to
 * judges: it keeps waiting the longest delay instead, and each attempt says so in the log.
 */
export function decideAfterFault(attempts: number, now: Date, taskKnown: boolean): AfterFault {
  const delays = SCREENING_RETRY_DELAYS_MS;
  if (attempts >= MAX_SCREENING_ATTEMPTS && taskKnown) return { retry: false };
  const delay = delays[Math.min(Math.max(attempts, 1), delays.length) - 1]!;
  return { retry: true, at: new Date(now.getTime() + delay) };
}
