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
