import {
  causedBy,
  type EventEnvelope,
  type EventMeta,
  parseEvent,
  type TesseraEvent,
} from '@tessera/contracts';
import { sql } from 'kysely';
import type { AnyDatabase } from '../db/kit-migrations.ts';
import { traceparentForEvent } from '../tracing/tracing.ts';

export const OUTBOX_CHANNEL = 'tessera_outbox';

/**
 * Writes events to the outbox inside the caller's transaction, so they are
 * published if and only if the state change commits. Each event is validated
 * against the catalog first: nothing malformed ever leaves a service. Each carries the traceparent
 * of the span active when it is written (a request's, a consumer's), so that its consumers continue
 * the same trace.
 */
export async function appendToOutbox(trx: AnyDatabase, events: readonly TesseraEvent[]): Promise<void> {
  if (events.length === 0) return;
  const valid = events.map((event) => parseEvent(withTraceparent(event)));
  // One statement (one round trip) with one parameter, the events as a JSON array (stringified once,
  // parsed once by Postgres): the insert, and a notification delivered at commit and dropped on
  // rollback that wakes the relay without polling. A data-modifying CTE runs once whether or not the
  // outer query reads it. `with ordinality` keeps the events' order in their positions.
  await sql`with inserted as (
      insert into outbox (event_id, type, subject, payload)
      select (event->>'id')::uuid, event->>'type', event->>'subject', event
      from jsonb_array_elements(${JSON.stringify(valid)}::jsonb) with ordinality as e(event, n)
      order by n
    )
    select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(trx);
}

function withTraceparent(event: TesseraEvent): TesseraEvent {
  const traceparent = traceparentForEvent(event.traceparent);
  return traceparent && traceparent !== event.traceparent ? { ...event, traceparent } : event;
}

/** What caused a change, when another event did (for its correlation and causation ids). */
export type Cause = Pick<EventEnvelope, 'id' | 'correlationid' | 'traceparent'>;

/** The metadata of an event a service writes: its subject, the time from its clock, its cause. */
export function eventMeta(subject: string, now: Date, cause?: Cause): EventMeta {
  return { ...(cause ? causedBy(cause, subject) : { subject }), time: now };
}
