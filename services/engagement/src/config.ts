import { loadConfig, serviceConfigSchema } from '@tessera/service-kit';
import type { z } from 'zod';
import { catalogVariables } from './catalog/config.ts';
import { notificationVariables } from './notifications/config.ts';
import { referralVariables } from './referrals/config.ts';
import { standingVariables } from './standing/config.ts';
import { webhookVariables } from './webhooks/config.ts';

/** Engagement's environment: the kit's variables plus each capability's own, parsed once at start. */
export const engagementConfigSchema = serviceConfigSchema.extend({
  ...catalogVariables,
  ...standingVariables,
  ...notificationVariables,
  ...webhookVariables,
  ...referralVariables,
});

export type EngagementConfig = z.infer<typeof engagementConfigSchema>;

export function loadEngagementConfig(env: NodeJS.ProcessEnv = process.env): EngagementConfig {
  return loadConfig(engagementConfigSchema, env);
}
