import {
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from '@tessera/service-kit';
import { capabilities } from './capabilities.ts';
import type { EngagementConfig } from './config.ts';
import { engagementMigrations } from './db/migrations.ts';
import type { EngagementDB } from './db/schema.ts';
import { engagementConsumers } from './messaging/consumers.ts';
import { catalogWaitsWorker } from './messaging/waits.ts';

export type RunningEngagement = RunningService<EngagementDB, EngagementConfig>;

export const engagementDefinition: ServiceDefinition<EngagementDB, EngagementConfig> = {
  name: 'engagement',
  description:
    'XP, levels, trust score, streaks, badges, leaderboards, missions, referrals, notifications and company webhooks',
  migrations: engagementMigrations,
  routes(app, context) {
    for (const capability of capabilities) capability.routes?.(app, context);
  },
  consumers: (context) => engagementConsumers(context),
  workers: (context) => [
    ...capabilities.flatMap((capability) => capability.workers?.(context) ?? []),
    catalogWaitsWorker(context),
  ],
};

/** Starts engagement in this process (tests); `server.ts` runs it with `runService`. */
export function startEngagement(
  config: EngagementConfig,
  options: StartOptions = {},
): Promise<RunningEngagement> {
  return startService(engagementDefinition, config, options);
}
