import { buildEvent, TRACEPARENT_PATTERN, type TesseraEvent } from '@tessera/contracts';
import type { Logger } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import { storedEventSchemas } from '../domain/events.ts';
import { CheckpointedSubscription } from '../projections/subscription.ts';
import type { LedgerDB } from '../service.ts';
import type { EventStore, RecordedEvent } from '../store/event-store.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';

export const HTTP_OUTCOMES_SUBSCRIPTION = 'ledger-http-outcomes';

/**
 * Announces the transfers recorded over HTTP (top-ups, adjustments) from the event store itself,
 * with its own checkpoint in the outbox's transaction. An HTTP handler cannot hold the store's
 * append and the outbox in one transaction; following the store means a process that dies right
 * after the append still gets its event out, once, without the client having to retry.
 */
export function createHttpOutcomePublisher(options: {
  db: Kysely<LedgerDB>;
  store: EventStore;
  logger: Logger;
}): CheckpointedSubscription<LedgerDB> {
  return new CheckpointedSubscription<LedgerDB>({
    name: HTTP_OUTCOMES_SUBSCRIPTION,
    db: options.db,
    store: options.store,
    logger: options.logger,
    apply: publishHttpOutcomes,
  });
}

export async function publishHttpOutcomes(
  trx: Transaction<LedgerDB>,
  events: readonly RecordedEvent[],
): Promise<void> {
  for (const recorded of events) {
    if (recorded.type !== 'transfer-created') continue;
    // The request's trace, which the engine kept in the event's metadata (absent from older events).
    const carried = recorded.metadata.traceparent;
    const traceparent =
      typeof carried === 'string' && TRACEPARENT_PATTERN.test(carried) ? carried : undefined;
    const event = outcomeOf(storedEventSchemas['transfer-created'].parse(recorded.data), traceparent);
    if (event) await publishOutcome(trx, outcomeKey(event.type, event.data.transfer_id), event);
  }
}

type Created = ReturnType<(typeof storedEventSchemas)['transfer-created']['parse']>;

function outcomeOf(
  transfer: Created,
  traceparent: string | undefined,
): TesseraEvent<'ledger.topup.recorded.v1' | 'ledger.adjustment.applied.v1'> | undefined {
  const { metadata } = transfer;
  const amount = { amount: transfer.amount, currency: transfer.currency };
  const time = new Date(transfer.at);
  if (metadata.origin === 'topup' && metadata.company_id) {
    return buildEvent(
      'ledger.topup.recorded.v1',
      { company_id: metadata.company_id, amount, transfer_id: transfer.id },
      { subject: metadata.company_id, time, ...(traceparent ? { traceparent } : {}) },
    );
  }
  if (
    metadata.origin === 'adjustment' &&
    metadata.user_id &&
    (metadata.kind === 'bonus' || metadata.kind === 'penalty')
  ) {
    return buildEvent(
      'ledger.adjustment.applied.v1',
      { user_id: metadata.user_id, kind: metadata.kind, amount, transfer_id: transfer.id },
      { subject: metadata.user_id, time, ...(traceparent ? { traceparent } : {}) },
    );
  }
  return undefined;
}
