import { assertExpected, validateAppends } from './append-rules.ts';
import {
  type AppendResult,
  DuplicateEventIdError,
  type EventStore,
  type RecordedEvent,
  type StreamAppend,
} from './event-store.ts';

const CHECKPOINT = /^m(\d{15})$/;

function checkpointOf(position: number): string {
  return `m${String(position).padStart(15, '0')}`;
}

/** The global position just after `checkpoint` (0 from the start). */
function startAfter(checkpoint: string | undefined): number {
  if (checkpoint === undefined) return 0;
  const match = CHECKPOINT.exec(checkpoint);
  if (!match?.[1]) throw new TypeError(`not a checkpoint of the memory store: "${checkpoint}"`);
  return Number(match[1]) + 1;
}

function copy(event: RecordedEvent): RecordedEvent {
  return { ...structuredClone(event), recordedAt: new Date(event.recordedAt) };
}

export interface MemoryEventStore extends EventStore {
  /** Every recorded event in the global order (copies), for tests. */
  all(): RecordedEvent[];
}

/**
 * An event store in one process's memory, with the guarantees of the durable ones: an append is
 * checked and applied without yielding, so it is atomic and concurrent appends are serialised.
 * Events are copied in and out; nothing a caller holds can change the log.
 */
export function createMemoryEventStore(): MemoryEventStore {
  const log: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  const ids = new Set<string>();
  const waiters = new Set<() => void>();
  let closed = false;

  function append(appends: StreamAppend[]): AppendResult {
    if (closed) throw new Error('event store is closed');
    validateAppends(appends);
    for (const { stream, expected, events } of appends) {
      const current = streams.get(stream);
      assertExpected(stream, expected, current ? current.length - 1 : 'no_stream');
      for (const event of events) if (ids.has(event.id)) throw new DuplicateEventIdError(event.id);
    }
    const recordedAt = new Date();
    const result: AppendResult = { streams: [] };
    for (const { stream, events } of appends) {
      const recorded = streams.get(stream) ?? [];
      streams.set(stream, recorded);
      for (const event of events) {
        const stored: RecordedEvent = {
          id: event.id,
          stream,
          revision: recorded.length,
          type: event.type,
          data: structuredClone(event.data),
          metadata: structuredClone(event.metadata ?? {}),
          recordedAt,
          checkpoint: checkpointOf(log.length),
        };
        recorded.push(stored);
        log.push(stored);
        ids.add(event.id);
      }
      result.streams.push({ stream, revision: recorded.length - 1 });
    }
    for (const wake of waiters) wake();
    return result;
  }

  function readAll(options: { after?: string; limit?: number } = {}): RecordedEvent[] {
    const from = startAfter(options.after);
    const to = options.limit === undefined ? log.length : from + options.limit;
    return log.slice(from, to).map(copy);
  }

  async function* subscribeAll(options: {
    after?: string;
    signal: AbortSignal;
  }): AsyncGenerator<RecordedEvent> {
    const { signal } = options;
    let next = startAfter(options.after);
    while (!signal.aborted && !closed) {
      const event = log[next];
      if (event) {
        next += 1;
        yield copy(event);
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  return {
    adapter: 'memory',
    append: async (appends) => append(appends),
    async readStream(stream, options = {}) {
      const from = options.fromRevision ?? 0;
      const events = streams.get(stream) ?? [];
      const to = options.limit === undefined ? events.length : from + options.limit;
      return events.slice(from, to).map(copy);
    },
    readAll: async (options) => readAll(options),
    subscribeAll,
    all: () => log.map(copy),
    async close() {
      closed = true;
      for (const wake of waiters) wake();
    },
  };
}
