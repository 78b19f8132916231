import { z } from 'zod';

/** This capability's environment variables (merged into engagement's config). */
export const referralVariables = {
  ENGAGEMENT_REFERRALS_PLACEHOLDER: z.string().optional(),
};
