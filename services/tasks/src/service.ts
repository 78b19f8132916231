import {
  periodicJob,
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { expireDueAssignments, releaseUnusedFeeHolds } from './assignments/index.ts';
import { announceDueCloses, completeEndedCampaigns } from './campaigns/index.ts';
import type { TasksConfig } from './config.ts';
import { tasksMigrations } from './db/migrations.ts';
import type { TasksDB } from './db/schema.ts';
import { openFeedDatabase } from './feed/index.ts';
import { tasksConsumers } from './messaging/consumers.ts';
import { registerRoutes } from './routes.ts';

/** What tasks opens besides the kit's pool: the feed's own pool, whose sessions plan as it needs. */
export interface TasksResources {
  feedDb: Kysely<TasksDB>;
}

export type RunningTasks = RunningService<TasksDB, TasksConfig, TasksResources>;

/** Worker names, for tests that switch one off to drive its work by hand. */
export const tasksWorkers = {
  assignmentExpiry: 'assignment-expiry',
  campaignSchedule: 'campaign-schedule',
} as const;

/**
 * The expiry worker also frees judged claims' unused fee holds (assignments/fee-holds.ts); its
 * failed items are counted and parked under this name of their own.
 */
export const feeHoldReleaseJob = 'fee-hold-release';

export const tasksDefinition: ServiceDefinition<TasksDB, TasksConfig, TasksResources> = {
  name: 'tasks',
  description: 'Campaigns (budget, quota, schedule), tasks, eligibility, the feed and claims',
  migrations: tasksMigrations,
  resources: {
    open: ({ config }) => ({ feedDb: openFeedDatabase(config.DATABASE_URL) }),
    close: ({ feedDb }) => feedDb.destroy(),
  },
  routes: (app, { db, config, clock, resources, metrics }) => {
    const feed = metrics.histogram(
      'tessera_tasks_feed_seconds',
      "A contributor feed page's query: eligibility, ranking and the page, in the database.",
    );
    registerRoutes(app, {
      db,
      config,
      clock,
      feedDb: resources.feedDb,
      observeFeed: (seconds) => feed.observe(seconds),
    });
  },
  consumers: ({ logger, clock }) => tasksConsumers({ logger, clock }),
  parkingJobs: [tasksWorkers.assignmentExpiry, tasksWorkers.campaignSchedule, feeHoldReleaseJob],
  workers: ({ db, config, clock, logger, metrics }) => [
    periodicJob({
      name: tasksWorkers.assignmentExpiry,
      intervalMs: config.TASKS_EXPIRY_INTERVAL_MS,
      work: async () => {
        const now = clock();
        return (
          (await expireDueAssignments(db, {
            now,
            logger,
            counted: { job: tasksWorkers.assignmentExpiry, metrics: metrics.jobs },
          })) +
          (await releaseUnusedFeeHolds(db, {
            now,
            logger,
            counted: { job: feeHoldReleaseJob, metrics: metrics.jobs },
          }))
        );
      },
    }),
    periodicJob({
      name: tasksWorkers.campaignSchedule,
      intervalMs: config.TASKS_SCHEDULE_INTERVAL_MS,
      work: async () => {
        const now = clock();
        const counted = { job: tasksWorkers.campaignSchedule, metrics: metrics.jobs };
        return (
          (await completeEndedCampaigns(db, { now, logger, counted })) +
          (await announceDueCloses(db, { now, logger, counted }))
        );
      },
    }),
  ],
};

/** Starts tasks in this process (tests, benchmarks); `server.ts` runs it with `runService`. */
export function startTasks(config: TasksConfig, options: StartOptions = {}): Promise<RunningTasks> {
  return startService(tasksDefinition, config, options);
}
