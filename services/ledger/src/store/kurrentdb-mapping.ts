import {
  ANY,
  type AllStreamResolvedEvent,
  type AppendStreamRequest,
  type AppendStreamState,
  type CurrentStreamState,
  type EventData,
  type MultiAppendResult,
  NO_STREAM,
  type Position,
  type ResolvedEvent,
  STREAM_EXISTS,
} from '@kurrent/kurrentdb-client';
import {
  type AppendResult,
  DuplicateEventIdError,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type RecordedEvent,
  type StreamAppend,
  WrongExpectedRevisionError,
} from './event-store.ts';

/**
 * Pure translations between our EventStore and the KurrentDB client, kept apart from the adapter
 * so they are unit-tested without a server.
 *
 * KurrentDB does not keep event ids unique across streams, so each appended event also creates
 * `es-event-id-<id>` with expected state NO_STREAM in the same atomic append: a reused id fails the
 * append, and the failure names that stream. These streams never show in our reads.
 */
export const EVENT_ID_STREAM_PREFIX = 'es-event-id-';
export const EVENT_ID_RESERVED_TYPE = 'event-id-reserved';
/** multiStreamAppend takes string-valued metadata only: ours travels as one JSON property. */
export const METADATA_PROPERTY = 'es.metadata';
/** Server-side filter of `$all`: neither system streams (`$...`) nor event id reservations. */
export const USER_STREAMS_REGEX = `^(?!\\$|${EVENT_ID_STREAM_PREFIX})`;

export function toExpectedState(expected: ExpectedRevision): AppendStreamState {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

export function encodeMetadata(metadata: JsonObject | undefined): Record<string, string> | undefined {
  if (!metadata || Object.keys(metadata).length === 0) return undefined;
  return { [METADATA_PROPERTY]: JSON.stringify(metadata) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/** Our metadata back from what the server returns (which may carry properties of its own). */
export function decodeMetadata(raw: unknown): JsonObject {
  if (!isPlainObject(raw)) return {};
  const encoded = raw[METADATA_PROPERTY];
  if (typeof encoded === 'string') return JSON.parse(encoded) as JsonObject;
  return {};
}

function toEventData(event: EventToAppend): EventData {
  return {
    id: event.id,
    contentType: 'application/json',
    type: event.type,
    data: event.data,
    metadata: encodeMetadata(event.metadata),
  };
}

export function toAppendRequests(
  appends: readonly StreamAppend[],
  newId: () => string,
): AppendStreamRequest[] {
  const requests: AppendStreamRequest[] = appends.map(({ stream, expected, events }) => ({
    streamName: stream,
    expectedState: toExpectedState(expected),
    events: events.map(toEventData),
  }));
  for (const { stream, events } of appends) {
    for (const { id } of events) {
      requests.push({
        streamName: `${EVENT_ID_STREAM_PREFIX}${id}`,
        expectedState: NO_STREAM,
        events: [
          {
            id: newId(),
            contentType: 'application/json',
            type: EVENT_ID_RESERVED_TYPE,
            data: { event_id: id, stream },
            metadata: undefined,
          },
        ],
      });
    }
  }
  return requests;
}

export function toAppendResult(result: MultiAppendResult, appends: readonly StreamAppend[]): AppendResult {
  const revisions = new Map(result.responses.map((r) => [r.streamName, Number(r.revision)]));
  return {
    streams: appends.map(({ stream }) => {
      const revision = revisions.get(stream);
      if (revision === undefined) throw new Error(`KurrentDB did not report the revision of "${stream}"`);
      return { stream, revision };
    }),
  };
}

// xid-like width: commit and prepare positions are unsigned 64-bit, at most 20 digits.
const CHECKPOINT = /^(\d{20})\.(\d{20})$/;

export function encodeCheckpoint(position: Position): string {
  return `${position.commit.toString().padStart(20, '0')}.${position.prepare.toString().padStart(20, '0')}`;
}

export function decodeCheckpoint(checkpoint: string): Position {
  const match = CHECKPOINT.exec(checkpoint);
  if (!match?.[1] || !match[2])
    throw new TypeError(`not a checkpoint of the KurrentDB event store: "${checkpoint}"`);
  return { commit: BigInt(match[1]), prepare: BigInt(match[2]) };
}

export function isAfter(position: Position, after: Position): boolean {
  return (
    position.commit > after.commit || (position.commit === after.commit && position.prepare > after.prepare)
  );
}

export function isInternal(stream: string, type: string): boolean {
  return stream.startsWith('$') || type.startsWith('$') || stream.startsWith(EVENT_ID_STREAM_PREFIX);
}

/**
 * Our event from a read or subscription result; undefined for what we never show (system events,
 * links, id reservations).
 */
export function toRecordedEvent(resolved: AllStreamResolvedEvent | ResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event || isInternal(event.streamId, event.type)) return undefined;
  if (!event.isJson || !isPlainObject(event.data)) {
    throw new TypeError(
      `event ${event.id} in "${event.streamId}" is not a JSON object; not written by this store`,
    );
  }
  const position =
    event.position ??
    (resolved.commitPosition === undefined
      ? undefined
      : { commit: resolved.commitPosition, prepare: resolved.commitPosition });
  if (!position) throw new Error(`KurrentDB returned event ${event.id} without a position`);
  return {
    id: event.id,
    stream: event.streamId,
    revision: Number(event.revision),
    type: event.type,
    data: event.data as JsonObject,
    metadata: decodeMetadata(event.metadata),
    recordedAt: event.created,
    checkpoint: encodeCheckpoint(position),
  };
}

function fromActual(actual: CurrentStreamState): number | 'no_stream' {
  // Deleted (-5) and tombstoned (-6) streams read as absent; this store never deletes.
  return actual === NO_STREAM || actual < 0n ? 'no_stream' : Number(actual);
}

function conflict(stream: string, actual: CurrentStreamState, appends: readonly StreamAppend[]): Error {
  if (stream.startsWith(EVENT_ID_STREAM_PREFIX)) {
    return new DuplicateEventIdError(stream.slice(EVENT_ID_STREAM_PREFIX.length));
  }
  const expected = appends.find((a) => a.stream === stream)?.expected ?? 'any';
  return new WrongExpectedRevisionError(stream, expected, fromActual(actual));
}

interface ClientErrorShape {
  type?: unknown;
  streamName?: unknown;
  actualState?: unknown;
  violations?: { streamName: string; actualState: CurrentStreamState }[];
}

/**
 * Our error for a failed multiStreamAppend. The client reports a stream at the wrong revision as
 * WrongExpectedVersionError (v2 StreamRevisionConflict) or, for consistency checks, as
 * AppendConsistencyViolationError; matched on `type` so a second copy of the client still maps.
 */
export function toStoreError(error: unknown, appends: readonly StreamAppend[]): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const shape = error as ClientErrorShape;
  if (shape.type === 'wrong-expected-version' && typeof shape.streamName === 'string') {
    return conflict(shape.streamName, shape.actualState as CurrentStreamState, appends);
  }
  const first = shape.violations?.[0];
  if (shape.type === 'append-consistency-violation' && first) {
    return conflict(first.streamName, first.actualState, appends);
  }
  return error;
}

export function isStreamNotFound(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'stream-not-found'
  );
}
