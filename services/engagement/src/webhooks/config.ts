import { z } from 'zod';

/** This capability's environment variables (merged into engagement's config). */
export const webhookVariables = {
  ENGAGEMENT_WEBHOOKS_PLACEHOLDER: z.string().optional(),
};
