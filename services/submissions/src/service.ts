import {
  instanceSignals,
  jobTrigger,
  periodicJob,
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from '@tessera/service-kit';
import { claimArrivals } from './claims/arrivals.ts';
import type { SubmissionsConfig } from './config.ts';
import type { SubmissionsResources } from './context.ts';
import { submissionsMigrations } from './db/migrations.ts';
import type { SubmissionsDB } from './db/schema.ts';
import { appealRoutes } from './appeals/routes.ts';
import { bundleRoutes } from './bundles/routes.ts';
import { intakeRoutes } from './intake/routes.ts';
import { listingRoutes } from './listing/routes.ts';
import { MEDIA_SWEEP_RUN, mediaRoutes, openMediaStorage, sweepOrphanedMedia } from './media/index.ts';
import { submissionsConsumers } from './messaging/consumers.ts';
import { defaultFraudRules } from './fraud/decide.ts';
import { fraudRoutes } from './fraud/routes.ts';
import { registerSubmissionsSummary } from './admin-summary.ts';
import { screenWaiting } from './prevalidation/handle.ts';
import { registerScreeningGauges } from './prevalidation/queue.ts';
import { expireRevisions } from './verdicts/handle.ts';

/** Worker names, for tests that switch one off to drive its work by hand. */
export const submissionsWorkers = {
  prevalidation: 'prevalidation',
  revisionExpiry: 'revision-expiry',
  mediaSweep: 'media-sweep',
} as const;

/** Hand-ins screened per run of pre-validation; a full run is followed by another at once. */
const SCREENING_RUN = 20;

export type RunningSubmissions = RunningService<SubmissionsDB, SubmissionsConfig, SubmissionsResources>;

export const submissionsDefinition: ServiceDefinition<
  SubmissionsDB,
  SubmissionsConfig,
  SubmissionsResources
> = {
  name: 'submissions',
  description:
    'Work intake, media, pre-validation, fraud signals, verdicts, revisions, appeals, dataset bundles',
  migrations: submissionsMigrations,
  resources: {
    open: async ({ config, logger, bus }) => ({
      storage: await openMediaStorage(config, logger),
      screening: jobTrigger(),
      claimArrivals: claimArrivals(instanceSignals(bus, 'submissions')),
    }),
    close: async ({ storage, claimArrivals }) => {
      claimArrivals.close();
      await storage.close?.();
    },
  },
  async routes(app, context) {
    intakeRoutes(app, context);
    listingRoutes(app, context);
    appealRoutes(app, context);
    fraudRoutes(app, context);
    bundleRoutes(app, context);
    registerSubmissionsSummary(app, context);
    await mediaRoutes(app, context);
    registerScreeningGauges(context.metrics, context.db, context.clock);
  },
  consumers: (context) => submissionsConsumers(context),
  parkingJobs: [submissionsWorkers.revisionExpiry, submissionsWorkers.mediaSweep],
  workers: ({ db, config, clock, logger, metrics, resources }) => [
    periodicJob({
      name: submissionsWorkers.prevalidation,
      intervalMs: config.SUBMISSIONS_SCREEN_INTERVAL_MS,
      trigger: resources.screening,
      fullRunAt: SCREENING_RUN,
      work: () =>
        screenWaiting(
          {
            db,
            storage: resources.storage,
            clock,
            logger: logger.child({ component: 'prevalidation' }),
            fraud: defaultFraudRules,
            minImageSide: {
              width: config.SUBMISSIONS_MIN_IMAGE_WIDTH,
              height: config.SUBMISSIONS_MIN_IMAGE_HEIGHT,
            },
          },
          SCREENING_RUN,
        ),
    }),
    periodicJob({
      name: submissionsWorkers.revisionExpiry,
      intervalMs: config.SUBMISSIONS_REVISION_EXPIRY_INTERVAL_MS,
      work: () =>
        expireRevisions(db, clock(), {
          logger,
          counted: { job: submissionsWorkers.revisionExpiry, metrics: metrics.jobs },
        }),
    }),
    periodicJob({
      name: submissionsWorkers.mediaSweep,
      intervalMs: config.SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS,
      fullRunAt: MEDIA_SWEEP_RUN,
      work: () =>
        sweepOrphanedMedia(
          {
            db,
            storage: resources.storage,
            orphanTtlHours: config.SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS,
            logger: logger.child({ component: submissionsWorkers.mediaSweep }),
            counted: { job: submissionsWorkers.mediaSweep, metrics: metrics.jobs },
          },
          clock(),
        ),
    }),
  ],
};

/** Starts submissions in this process (tests, benchmarks); `server.ts` runs it with `runService`. */
export function startSubmissions(
  config: SubmissionsConfig,
  options: StartOptions = {},
): Promise<RunningSubmissions> {
  return startService(submissionsDefinition, config, options);
}
