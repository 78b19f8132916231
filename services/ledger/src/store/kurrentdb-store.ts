import { randomUUID } from 'node:crypto';
import { FORWARDS, KurrentDBClient, type Position, START, streamNameFilter } from '@kurrent/kurrentdb-client';
import { validateAppends } from './append-rules.ts';
import type { AppendResult, EventStore, RecordedEvent, StreamAppend } from './event-store.ts';
import {
  decodeCheckpoint,
  isAfter,
  isStreamNotFound,
  toAppendRequests,
  toAppendResult,
  toRecordedEvent,
  toStoreError,
  USER_STREAMS_REGEX,
} from './kurrentdb-mapping.ts';

export interface KurrentDbEventStoreOptions {
  /** e.g. `kurrentdb://localhost:2113?tls=false`, or a client the caller owns. */
  connection: string | KurrentDBClient;
  /** Events per readAll request. */
  pageSize?: number;
}

/**
 * The event store over KurrentDB (25.1 or later, for multiStreamAppend). KurrentDB has a single
 * writer and assigns `$all` positions in commit order, so nothing commits "late" behind a position
 * already read; subscriptions are the server's catch-up subscriptions to `$all`.
 *
 * Never run against a server on the machine where it was written (no container runtime): the
 * mapping is unit-tested, and the contract suite runs when KURRENTDB_URL is set.
 */
export function createKurrentDbEventStore(options: KurrentDbEventStoreOptions): EventStore {
  const ownsClient = typeof options.connection === 'string';
  const client =
    typeof options.connection === 'string'
      ? KurrentDBClient.connectionString(options.connection)
      : options.connection;
  const pageSize = options.pageSize ?? 500;
  const filter = () => streamNameFilter({ regex: USER_STREAMS_REGEX });

  async function append(appends: StreamAppend[]): Promise<AppendResult> {
    validateAppends(appends);
    if (appends.length === 0) return { streams: [] };
    try {
      const result = await client.multiStreamAppend(toAppendRequests(appends, randomUUID));
      return toAppendResult(result, appends);
    } catch (error) {
      throw toStoreError(error, appends);
    }
  }

  async function readStream(
    stream: string,
    read: { fromRevision?: number; limit?: number } = {},
  ): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    if (read.limit === 0) return events;
    try {
      const iterator = client.readStream(stream, {
        fromRevision: BigInt(read.fromRevision ?? 0),
        direction: FORWARDS,
        ...(read.limit === undefined ? {} : { maxCount: read.limit }),
      });
      for await (const resolved of iterator) {
        const event = toRecordedEvent(resolved);
        if (event) events.push(event);
      }
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw error;
    }
    return events;
  }

  async function readAll(read: { after?: string; limit?: number } = {}): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    // `fromPosition` is inclusive: each page asks for one more and skips what is not after `cursor`.
    let cursor: Position | undefined = read.after === undefined ? undefined : decodeCheckpoint(read.after);
    for (;;) {
      const wanted = Math.min(pageSize, (read.limit ?? Infinity) - events.length);
      if (wanted <= 0) return events;
      const maxCount = wanted + 1;
      let returned = 0;
      for await (const resolved of client.readAll({
        fromPosition: cursor ?? START,
        maxCount,
        direction: FORWARDS,
        filter: filter(),
      })) {
        returned += 1;
        const position = resolved.event?.position;
        if (!position || (cursor && !isAfter(position, cursor))) continue;
        cursor = position;
        const event = toRecordedEvent(resolved);
        if (event) events.push(event);
        if (events.length === read.limit) return events;
      }
      if (returned < maxCount) return events;
    }
  }

  async function* subscribeAll(subscription: { after?: string; signal: AbortSignal }) {
    const { signal } = subscription;
    const from = subscription.after === undefined ? START : decodeCheckpoint(subscription.after);
    if (signal.aborted) return;
    const stream = client.subscribeToAll({ fromPosition: from, filter: filter() });
    const stop = () => void stream.unsubscribe().catch(() => undefined);
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const resolved of stream) {
        if (signal.aborted) return;
        const event = toRecordedEvent(resolved);
        if (event) yield event;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }

  return {
    adapter: 'kurrentdb',
    append,
    readStream,
    readAll,
    subscribeAll,
    async close() {
      if (ownsClient) await client.dispose();
    },
  };
}
