import { currencyCode } from '@tessera/contracts';
import { z } from 'zod';

const minor = (fallback: number) =>
  z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(fallback);

/** This capability's environment variables (merged into engagement's config). */
export const referralVariables = {
  /** What a referrer is paid (minor units of ENGAGEMENT_REFERRAL_CURRENCY) when their referral qualifies. */
  ENGAGEMENT_REFERRAL_REWARD: minor(500),
  ENGAGEMENT_REFERRAL_CURRENCY: currencyCode.default('USD'),
  /** Approved submissions a referred contributor needs before the referral qualifies. */
  ENGAGEMENT_REFERRAL_QUALIFYING_APPROVALS: z.coerce.number().int().min(1).max(1_000).default(5),
  /** What the referrer's own referrer is paid (level 2); 0 switches the second level off. */
  ENGAGEMENT_REFERRAL_SECOND_LEVEL_REWARD: minor(0),
};
