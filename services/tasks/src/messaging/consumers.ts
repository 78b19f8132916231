import type { TesseraEvent } from '@tessera/contracts';
import type { Clock, ConsumerSpec, Logger } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { engagementHandlers } from './engagement.ts';
import { identityHandlers } from './identity.ts';
import { ledgerHandlers } from './ledger.ts';
import { deferReconciles, reconcileDeferred } from '../campaigns/index.ts';
import { lockCampaignsOf } from './lock-campaigns.ts';
import { qcHandlers } from './qc.ts';
import { submissionHandlers } from './submissions.ts';

export interface ConsumerDeps {
  logger: Logger;
  clock: Clock;
}

/** Consumer names, also their keys in the inbox (tests wait on them). */
export const consumerNames = {
  identity: 'tasks-identity',
  engagement: 'tasks-engagement',
  ledger: 'tasks-ledger',
  submissions: 'tasks-submissions',
  // The whole of QC's stream (fees, then the verdict that counted them), in order. It read the fees
  // alone before: the same durable (its inbox rows with it) is updated in place and goes on from
  // where it was, never replaying a fee under a new name. During a rolling upgrade an older instance
  // acks the verdicts it gets unhandled; those claims' unused fee holds wait for the backstop.
  qc: 'tasks-qc',
} as const;

/**
 * What the consumers whose events move a campaign's counters do around their handlers: lock the
 * batch's campaigns first (`lockCampaignsOf`), and re-decide each campaign once at the end rather
 * than after every event (campaigns/reconcile.ts `deferReconciles`).
 */
const campaignMovers = {
  lockFirst: async (trx: Transaction<TasksDB>, events: readonly TesseraEvent[]) => {
    deferReconciles(trx);
    await lockCampaignsOf(trx, events);
  },
  beforeCommit: (trx: Transaction<TasksDB>) => reconcileDeferred(trx),
};

/** One durable consumer per stream read (nats-server 2.9: one filter each), in stream order. */
export function tasksConsumers(deps: ConsumerDeps): ConsumerSpec<TasksDB>[] {
  return [
    { name: consumerNames.identity, producer: 'identity', handlers: identityHandlers() },
    {
      name: consumerNames.engagement,
      producer: 'engagement',
      filter: 'engagement.contributor.>',
      handlers: engagementHandlers(),
    },
    {
      name: consumerNames.ledger,
      producer: 'ledger',
      handlers: ledgerHandlers(deps),
      ...campaignMovers,
    },
    {
      name: consumerNames.submissions,
      producer: 'submissions',
      handlers: submissionHandlers(deps),
      ...campaignMovers,
    },
    {
      name: consumerNames.qc,
      producer: 'qc',
      handlers: qcHandlers(deps),
      ...campaignMovers,
    },
  ];
}
