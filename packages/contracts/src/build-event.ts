import { v7 as uuidv7 } from 'uuid';
import { catalog, type EventData, type EventType, isEventType } from './catalog.ts';
import { envelopeSchema, type EventEnvelope } from './envelope.ts';
import { producerOf } from './routing.ts';

export type TesseraEvent<T extends EventType = EventType> = {
  [K in T]: EventEnvelope<K, EventData<K>>;
}[T];

export interface EventMeta {
  /** The entity the event is about (CloudEvents `subject`). */
  subject: string;
  /** The service that produces it; defaults to the type's producer segment. */
  source?: string;
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  id?: string;
  time?: Date;
}

/** Meta for an event caused by another: same correlation and trace, caused by its id. */
export function causedBy(
  cause: Pick<EventEnvelope, 'id' | 'correlationid' | 'traceparent'>,
  subject: string,
): EventMeta {
  return {
    subject,
    correlationId: cause.correlationid,
    causationId: cause.id,
    ...(cause.traceparent ? { traceparent: cause.traceparent } : {}),
  };
}

/**
 * Builds a catalogued event and validates its data, so that a producer can only
 * ever publish what the catalog says. Throws `EventValidationError` otherwise.
 */
export function buildEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  meta: EventMeta,
): TesseraEvent<T> {
  if (!isEventType(type)) throw new EventValidationError('UNKNOWN_EVENT_TYPE', type, 'not in the catalog');
  const parsed = catalog[type].data.safeParse(data);
  if (!parsed.success) throw new EventValidationError('INVALID_DATA', type, parsed.error.message);
  const id = meta.id ?? uuidv7();
  const event = {
    specversion: '1.0' as const,
    id,
    source: meta.source ?? producerOf(type),
    type,
    subject: meta.subject,
    time: (meta.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json' as const,
    correlationid: meta.correlationId ?? id,
    ...(meta.causationId ? { causationid: meta.causationId } : {}),
    ...(meta.traceparent ? { traceparent: meta.traceparent } : {}),
    data: parsed.data,
  };
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) throw new EventValidationError('INVALID_ENVELOPE', type, envelope.error.message);
  return event as TesseraEvent<T>;
}

export type EventValidationCode = 'INVALID_ENVELOPE' | 'UNKNOWN_EVENT_TYPE' | 'INVALID_DATA';

export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    readonly code: EventValidationCode,
    readonly type: string | undefined,
    detail: string,
  ) {
    super(`${code}${type ? ` (${type})` : ''}: ${detail}`);
  }
}

/** Validates a received event: the envelope, then its data against the catalog. */
export function parseEvent(raw: unknown): TesseraEvent {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success)
    throw new EventValidationError('INVALID_ENVELOPE', undefined, envelope.error.message);
  const { type } = envelope.data;
  if (!isEventType(type)) throw new EventValidationError('UNKNOWN_EVENT_TYPE', type, 'not in the catalog');
  const data = catalog[type].data.safeParse(envelope.data.data);
  if (!data.success) throw new EventValidationError('INVALID_DATA', type, data.error.message);
  const event: EventEnvelope<EventType> = { ...envelope.data, type, data: data.data };
  return event as TesseraEvent;
}
