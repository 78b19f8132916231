import { z } from 'zod';

/** This capability's environment variables (merged into engagement's config). */
export const notificationVariables = {
  ENGAGEMENT_NOTIFICATIONS_PLACEHOLDER: z.string().optional(),
};
