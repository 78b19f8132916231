import { randomUUID } from 'node:crypto';
import { LedgerInvariantError } from '../domain/errors.ts';
import { type StoredEvent, isStoredEventType, storedEventSchemas } from '../domain/events.ts';
import type { EventToAppend, RecordedEvent } from '../store/event-store.ts';

/** Reads a recorded event back as a ledger event, refusing anything the ledger could not have written. */
export function toStoredEvent(recorded: RecordedEvent): StoredEvent {
  const { type } = recorded;
  if (!isStoredEventType(type)) {
    throw new LedgerInvariantError(`${recorded.stream}@${recorded.revision}: unknown event type ${type}`);
  }
  const parsed = storedEventSchemas[type].safeParse(recorded.data);
  if (!parsed.success) {
    throw new LedgerInvariantError(
      `${recorded.stream}@${recorded.revision}: ${type} does not match its schema: ${parsed.error.message}`,
    );
  }
  return { type, data: parsed.data } as StoredEvent;
}

/** `traceparent`: the trace of the request that caused the event, kept in its metadata. */
export function toEventToAppend(event: StoredEvent, traceparent?: string): EventToAppend {
  return {
    id: randomUUID(),
    type: event.type,
    data: event.data,
    ...(traceparent ? { metadata: { traceparent } } : {}),
  };
}
