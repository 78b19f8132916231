import { isUuid } from '@tessera/service-kit';
import {
  DuplicateEventIdError,
  type ExpectedRevision,
  type StreamAppend,
  WrongExpectedRevisionError,
} from './event-store.ts';

/**
 * Rejects requests every adapter must refuse before touching storage: a stream named twice, a
 * stream with no events, an impossible expected revision, an event id that is not a lowercase
 * UUID (stores normalise case differently), or one event id used twice.
 */
export function validateAppends(appends: readonly StreamAppend[]): void {
  const streams = new Set<string>();
  const ids = new Set<string>();
  for (const { stream, expected, events } of appends) {
    if (typeof stream !== 'string' || stream.length === 0)
      throw new TypeError('stream name must be non-empty');
    if (streams.has(stream)) throw new TypeError(`stream "${stream}" appears twice in one append`);
    streams.add(stream);
    if (events.length === 0) throw new TypeError(`append to "${stream}" has no events`);
    if (typeof expected === 'number' && (!Number.isSafeInteger(expected) || expected < 0)) {
      throw new TypeError(`expected revision ${expected} of "${stream}" is not a revision`);
    }
    for (const event of events) {
      if (!isLowercaseUuid(event.id)) throw new TypeError(`event id "${event.id}" is not a lowercase UUID`);
      if (ids.has(event.id)) throw new DuplicateEventIdError(event.id);
      ids.add(event.id);
    }
  }
}

const isLowercaseUuid = (id: string) => isUuid(id) && id === id.toLowerCase();

/** Whether a stream whose last revision is `actual` satisfies `expected`. */
export function satisfies(expected: ExpectedRevision, actual: number | 'no_stream'): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 'no_stream';
  if (expected === 'exists') return actual !== 'no_stream';
  return actual === expected;
}

export function assertExpected(
  stream: string,
  expected: ExpectedRevision,
  actual: number | 'no_stream',
): void {
  if (!satisfies(expected, actual)) throw new WrongExpectedRevisionError(stream, expected, actual);
}
