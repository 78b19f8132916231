import {
  periodicJob,
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from '@tessera/service-kit';
import { adminRoutes } from './admin/routes.ts';
import { registerQcSummary } from './admin/summary.ts';
import { escalateWaitingCases } from './cases/escalation.ts';
import type { QcConfig } from './config.ts';
import type { Random } from './consensus/prng.ts';
import { cryptoRandom, type QcResources } from './context.ts';
import { qcMigrations } from './db/migrations.ts';
import type { QcDB } from './db/schema.ts';
import { qcConsumers } from './messaging/consumers.ts';
import { qualityRoutes } from './quality/routes.ts';
import { expireLeases } from './reviews/handle.ts';
import { HONEYPOT_FEES_BATCH, HONEYPOT_FEES_BATCHES, payDueHoneypotFees } from './reviews/honeypot-fees.ts';
import { reviewRoutes } from './reviews/routes.ts';

/** Worker names, for tests that switch one off to drive its work by hand. */
export const qcWorkers = {
  leaseExpiry: 'lease-expiry',
  caseEscalation: 'case-escalation',
  honeypotFees: 'honeypot-fees',
} as const;

export type RunningQc = RunningService<QcDB, QcConfig, QcResources>;

/** What a test may put in place of QC's own: the random source honeypot turns are drawn from. */
export interface QcOverrides {
  random?: Random;
}

export const defineQc = (overrides: QcOverrides = {}): ServiceDefinition<QcDB, QcConfig, QcResources> => ({
  name: 'qc',
  description:
    'Quality control: judges, leased reviews, reliability-weighted consensus with dynamic overlap, golden checks, honeypots, escalation, judge pay',
  migrations: qcMigrations,
  resources: { open: () => ({ random: overrides.random ?? cryptoRandom }) },
  routes(app, context) {
    reviewRoutes(app, context);
    qualityRoutes(app, context);
    adminRoutes(app, context);
    registerQcSummary(app, context);
  },
  consumers: (context) => qcConsumers(context),
  workers: ({ db, config, clock, logger }) => [
    periodicJob({
      name: qcWorkers.leaseExpiry,
      intervalMs: config.QC_LEASE_EXPIRY_INTERVAL_MS,
      work: () => expireLeases(db, clock(), { logger: logger.child({ component: 'lease-expiry' }) }),
    }),
    periodicJob({
      name: qcWorkers.caseEscalation,
      intervalMs: config.QC_CASE_ESCALATION_INTERVAL_MS,
      work: () =>
        escalateWaitingCases(
          db,
          clock(),
          {
            escalateAfterMs: config.QC_CASE_ESCALATE_AFTER_HOURS * 3_600_000,
            minLevel: config.QC_JUDGE_MIN_LEVEL,
            minTrust: config.QC_JUDGE_MIN_TRUST,
          },
          { logger: logger.child({ component: 'case-escalation' }) },
        ),
    }),
    periodicJob({
      name: qcWorkers.honeypotFees,
      intervalMs: config.QC_HONEYPOT_FEE_INTERVAL_MS,
      fullRunAt: HONEYPOT_FEES_BATCH * HONEYPOT_FEES_BATCHES,
      work: () => payDueHoneypotFees(db, clock(), { logger: logger.child({ component: 'honeypot-fees' }) }),
    }),
  ],
});

export const qcDefinition = defineQc();

/** Starts QC in this process (tests, benchmarks); `server.ts` runs it with `runService`. */
export function startQc(
  config: QcConfig,
  { random, ...options }: StartOptions & QcOverrides = {},
): Promise<RunningQc> {
  return startService(defineQc(random ? { random } : {}), config, options);
}
