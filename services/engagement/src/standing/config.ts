import { z } from 'zod';

/** This capability's environment variables (merged into engagement's config). */
export const standingVariables = {
  ENGAGEMENT_STANDING_PLACEHOLDER: z.string().optional(),
};
