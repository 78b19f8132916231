import type { TesseraEvent } from '@tessera/contracts';
import { type ConsumerSpec, idsNamedBy } from '@tessera/service-kit';
import { sql, type Transaction } from 'kysely';
import type { LedgerDB } from '../service.ts';
import { campaignHandlers } from './campaigns.ts';
import { engagementHandlers } from './engagement.ts';
import type { FlowDeps } from './flow.ts';
import { identityHandlers } from './identity.ts';
import { payoutHandlers } from './payouts.ts';
import { qcHandlers } from './qc.ts';
import { submissionHandlers } from './submissions.ts';

/** A field of an event's data as a lane key: events naming different values are independent. */
const laneOf =
  (field: string) =>
  (event: TesseraEvent): string | undefined => {
    const value = (event.data as Record<string, unknown>)[field];
    return typeof value === 'string' ? value.toLowerCase() : undefined;
  };

/**
 * `ledger-tasks`'s `lockFirst`: the campaign rows its batch names, in id order, before any handler
 * locks one (a funding and a return each lock theirs, in event order: two instances' batches naming
 * the same two campaigns in opposite orders would wait on each other).
 */
async function lockCampaignsOf(trx: Transaction<LedgerDB>, events: readonly TesseraEvent[]): Promise<void> {
  const ids = idsNamedBy(events, ['campaign_id']);
  if (ids.length === 0) return;
  await sql`select campaign_id from campaign_companies where campaign_id = any(${ids}::uuid[])
            order by campaign_id for update`.execute(trx);
}

/**
 * One durable consumer per stream the ledger reads (nats-server 2.9: one filter each); its name is
 * its key in the inbox. The kit applies what arrived together in one transaction. The money flows
 * run their events side by side per lane, so their transfers reach the engine's writer together and
 * share its batches: rewards and judge fees per claim (each locks its claim row and is bounded by
 * it), withdrawals per user (holds on one wallet stay in stream order). Campaign funding, claims and
 * promotions stay in stream order (a claim follows its campaign; bonuses share one budget row).
 */
export function ledgerConsumers(deps: FlowDeps): ConsumerSpec<LedgerDB>[] {
  return [
    {
      name: 'ledger-tasks',
      producer: 'tasks',
      handlers: campaignHandlers(deps),
      lockFirst: lockCampaignsOf,
    },
    {
      name: 'ledger-submissions',
      producer: 'submissions',
      handlers: submissionHandlers(deps),
      partitionKey: laneOf('assignment_id'),
    },
    { name: 'ledger-qc', producer: 'qc', handlers: qcHandlers(deps), partitionKey: laneOf('assignment_id') },
    {
      name: 'ledger-payouts',
      producer: 'payouts',
      handlers: payoutHandlers(deps),
      partitionKey: laneOf('user_id'),
    },
    { name: 'ledger-engagement', producer: 'engagement', handlers: engagementHandlers(deps) },
    {
      name: 'ledger-identity',
      producer: 'identity',
      filter: 'identity.company.>',
      handlers: identityHandlers(),
    },
  ];
}
