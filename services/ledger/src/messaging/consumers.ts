import type { ConsumerSpec } from '@tessera/service-kit';
import type { LedgerDB } from '../service.ts';
import { campaignHandlers } from './campaigns.ts';
import { engagementHandlers } from './engagement.ts';
import type { FlowDeps } from './flow.ts';
import { identityHandlers } from './identity.ts';
import { payoutHandlers } from './payouts.ts';
import { qcHandlers } from './qc.ts';
import { submissionHandlers } from './submissions.ts';

/**
 * One durable consumer per stream the ledger reads (nats-server 2.9: one filter each). Each
 * consumer handles its events one at a time in stream order; its name is its key in the inbox.
 */
export function ledgerConsumers(deps: FlowDeps): ConsumerSpec<LedgerDB>[] {
  return [
    { name: 'ledger-tasks', producer: 'tasks', handlers: campaignHandlers(deps) },
    { name: 'ledger-submissions', producer: 'submissions', handlers: submissionHandlers(deps) },
    { name: 'ledger-qc', producer: 'qc', handlers: qcHandlers(deps) },
    { name: 'ledger-payouts', producer: 'payouts', handlers: payoutHandlers(deps) },
    { name: 'ledger-engagement', producer: 'engagement', handlers: engagementHandlers(deps) },
    {
      name: 'ledger-identity',
      producer: 'identity',
      filter: 'identity.company.>',
      handlers: identityHandlers(),
    },
  ];
}
