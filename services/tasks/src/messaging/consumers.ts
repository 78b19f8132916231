import type { Clock, ConsumerSpec, Logger } from '@tessera/service-kit';
import type { TasksDB } from '../db/schema.ts';
import { engagementHandlers } from './engagement.ts';
import { identityHandlers } from './identity.ts';
import { ledgerHandlers } from './ledger.ts';
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
  qc: 'tasks-qc',
} as const;

/**
 * One durable consumer per stream read (nats-server 2.9: one filter each), in stream order. Those
 * whose events move a campaign's counters lock the batch's campaigns first (`lockCampaignsOf`).
 */
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
      lockFirst: lockCampaignsOf,
    },
    {
      name: consumerNames.submissions,
      producer: 'submissions',
      handlers: submissionHandlers(deps),
      lockFirst: lockCampaignsOf,
    },
    {
      name: consumerNames.qc,
      producer: 'qc',
      filter: 'qc.review.fee-earned.>',
      handlers: qcHandlers(deps),
      lockFirst: lockCampaignsOf,
    },
  ];
}
