import {
  jobTrigger,
  periodicJob,
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from '@tessera/service-kit';
import type { PayoutsConfig } from './config.ts';
import type { PayoutsResources } from './context.ts';
import { payoutsMigrations } from './db/migrations.ts';
import type { PayoutsDB } from './db/schema.ts';
import { payoutsConsumers } from './messaging/consumers.ts';
import { methodRoutes } from './methods/routes.ts';
import { openProvider } from './providers/open.ts';
import { adminWithdrawalRoutes } from './withdrawals/admin-routes.ts';
import { registerPayoutsSummary } from './withdrawals/admin-summary.ts';
import {
  AUTO_APPROVE_JOB,
  autoApprove,
  RECONCILE_JOB,
  SENDER_JOB,
  sendApproved,
} from './withdrawals/jobs.ts';
import { withdrawalRoutes } from './withdrawals/routes.ts';

/** Worker names, for tests that switch one off to drive its work by hand. */
export const payoutsWorkers = { autoApprove: AUTO_APPROVE_JOB, sender: SENDER_JOB } as const;

export type RunningPayouts = RunningService<PayoutsDB, PayoutsConfig, PayoutsResources>;

export const payoutsDefinition: ServiceDefinition<PayoutsDB, PayoutsConfig, PayoutsResources> = {
  name: 'payouts',
  description:
    'Payout methods (encrypted at rest), withdrawals and their saga with the ledger, payout providers',
  migrations: payoutsMigrations,
  resources: {
    open: ({ config, logger }) => ({ provider: openProvider(config, logger), sender: jobTrigger() }),
  },
  routes(app, context) {
    methodRoutes(app, context);
    withdrawalRoutes(app, context);
    adminWithdrawalRoutes(app, context);
    registerPayoutsSummary(app, context);
  },
  consumers: (context) => payoutsConsumers(context),
  // RECONCILE_JOB: withdrawals whose payout may be out but was not confirmed (jobs.ts `sendApproved`).
  parkingJobs: [payoutsWorkers.autoApprove, payoutsWorkers.sender, RECONCILE_JOB],
  workers: (context) => [
    periodicJob({
      name: payoutsWorkers.autoApprove,
      intervalMs: context.config.PAYOUTS_JOB_INTERVAL_MS,
      work: () => autoApprove(context),
    }),
    periodicJob({
      name: payoutsWorkers.sender,
      intervalMs: context.config.PAYOUTS_JOB_INTERVAL_MS,
      trigger: context.resources.sender,
      work: () => sendApproved(context),
    }),
  ],
};

/** Starts payouts in this process (tests); `server.ts` runs it with `runService`. */
export function startPayouts(config: PayoutsConfig, options: StartOptions = {}): Promise<RunningPayouts> {
  return startService(payoutsDefinition, config, options);
}
