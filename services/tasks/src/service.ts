import {
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksConfig } from './config.ts';
import { tasksMigrations } from './db/migrations.ts';
import type { TasksDB } from './db/schema.ts';
import { startAssignmentExpiry } from './jobs/assignment-expiry.ts';
import { startCampaignSchedule } from './jobs/campaign-schedule.ts';
import { openFeedDatabase } from './feed/feed-query.ts';
import { tasksConsumers } from './messaging/consumers.ts';
import { registerRoutes } from './routes/index.ts';

export function tasksDefinition(config: TasksConfig, feedDb: Kysely<TasksDB>): ServiceDefinition<TasksDB> {
  return {
    name: 'tasks',
    description: 'Campaigns (budget, quota, schedule), tasks, eligibility, the feed and claims',
    migrations: tasksMigrations,
    routes: (app, { db }) => registerRoutes(app, { db, config, feedDb }),
    consumers: ({ logger }) => tasksConsumers({ logger }),
  };
}

export interface TasksStartOptions extends StartOptions {
  /** Tests switch the jobs off to drive them by hand. */
  background?: { expiry?: boolean; schedule?: boolean };
}

export interface RunningTasks extends RunningService<TasksDB> {
  config: TasksConfig;
}

/** Boots the service, then the jobs that follow the clock; it listens last. */
export async function startTasks(
  config: TasksConfig,
  options: TasksStartOptions = {},
): Promise<RunningTasks> {
  const feedDb = openFeedDatabase(config.DATABASE_URL);
  let service: RunningService<TasksDB>;
  try {
    service = await startService(tasksDefinition(config, feedDb), config, { ...options, listen: false });
  } catch (error) {
    await feedDb.destroy();
    throw error;
  }
  const enabled = { expiry: true, schedule: true, ...options.background };
  const stops: (() => Promise<void>)[] = [];
  try {
    const { db, logger } = service;
    if (enabled.expiry) {
      const job = startAssignmentExpiry({
        db,
        logger: logger.child({ component: 'assignment-expiry' }),
        intervalMs: config.TASKS_EXPIRY_INTERVAL_MS,
      });
      stops.push(() => job.stop());
    }
    if (enabled.schedule) {
      const job = startCampaignSchedule({
        db,
        logger: logger.child({ component: 'campaign-schedule' }),
        intervalMs: config.TASKS_SCHEDULE_INTERVAL_MS,
      });
      stops.push(() => job.stop());
    }
    if (options.listen) await service.app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    for (const stop of stops.reverse()) await stop();
    await service.stop();
    await feedDb.destroy();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const stop of stops.reverse()) await stop();
      await service.stop();
      await feedDb.destroy();
    })());
  return { ...service, config, stop };
}
