import { z } from 'zod';

/** This capability's environment variables (merged into engagement's config). */
export const catalogVariables = {
  /**
   * How often the catalog job looks for events whose task or campaign has been announced since
   * they waited (`catalog/waits.ts`); the instance that handles the announcement looks at once.
   */
  ENGAGEMENT_CATALOG_WAITS_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(5_000),
};
