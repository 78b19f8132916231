import { z } from 'zod';

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** This capability's environment variables (merged into engagement's config). */
export const standingVariables = {
  /** XP for a counted review whose vote agreed with the verdict (a disagreeing one earns none). */
  ENGAGEMENT_REVIEW_XP: int(5, 0, 1_000_000),
  /** How often the decay job looks for inactive users (it takes from each at most once a UTC day). */
  ENGAGEMENT_DECAY_INTERVAL_MS: int(3_600_000, 1_000, 86_400_000),
  /** Days without activity after which XP decays. */
  ENGAGEMENT_DECAY_AFTER_DAYS: int(7, 1, 365),
  /** The share of XP (per cent, rounded down) a day of decay takes. */
  ENGAGEMENT_DECAY_PERCENT: int(5, 0, 100),
  /** Users decayed per transaction. */
  ENGAGEMENT_DECAY_BATCH_SIZE: int(500, 1, 10_000),
};
