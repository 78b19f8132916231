import {
  causedBy,
  type EventEnvelope,
  type EventMeta,
  parseEvent,
  type TesseraEvent,
} from '@tessera/contracts';
import { type Kysely, sql } from 'kysely';
import type { AnyDatabase, KitTables } from '../db/kit-migrations.ts';

export const OUTBOX_CHANNEL = 'tessera_outbox';

/**
 * Writes events to the outbox inside the caller's transaction, so they are
 * published if and only if the state change commits. Each event is validated
 * against the catalog first: nothing malformed ever leaves a service.
 */
export async function appendToOutbox(trx: AnyDatabase, events: readonly TesseraEvent[]): Promise<void> {
  if (events.length === 0) return;
  const db = trx as unknown as Kysely<KitTables>;
  const rows = events.map((event) => {
    const valid = parseEvent(event);
    return { event_id: valid.id, type: valid.type, subject: valid.subject, payload: JSON.stringify(valid) };
  });
  // One statement (one round trip): the insert, and a notification delivered at commit and
  // dropped on rollback that wakes the relay without polling. A data-modifying CTE runs once
  // whether or not the outer query reads it.
  const insert = db.insertInto('outbox').values(rows);
  await sql`with inserted as (${insert}) select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(db);
}

/** What caused a change, when another event did (for its correlation and causation ids). */
export type Cause = Pick<EventEnvelope, 'id' | 'correlationid' | 'traceparent'>;

/** The metadata of an event a service writes: its subject, the time from its clock, its cause. */
export function eventMeta(subject: string, now: Date, cause?: Cause): EventMeta {
  return { ...(cause ? causedBy(cause, subject) : { subject }), time: now };
}
