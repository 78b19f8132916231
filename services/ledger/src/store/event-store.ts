/**
 * The ledger's event store: append-only streams with optimistic concurrency and one global order.
 * Two adapters implement it (Postgres, the default; KurrentDB); one contract suite tests both.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * What the writer believes about a stream before appending:
 * - `'no_stream'`: it must not exist yet;
 * - `'exists'`: it must exist, at any revision;
 * - `'any'`: no check;
 * - a number: its last event must have exactly this revision (revisions start at 0).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'exists' | number;

export interface EventToAppend {
  /** A UUID chosen by the writer; unique across the store. */
  id: string;
  type: string;
  data: JsonObject;
  metadata?: JsonObject;
}

export interface StreamAppend {
  stream: string;
  expected: ExpectedRevision;
  events: EventToAppend[];
}

export interface RecordedEvent {
  id: string;
  stream: string;
  /** Position of the event in its stream: 0, 1, 2, ... with no gaps. */
  revision: number;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  recordedAt: Date;
  /**
   * Where the event sits in the store's global order. Opaque: only pass it back to `readAll` or
   * `subscribeAll`, and persist it as a projection checkpoint.
   */
  checkpoint: string;
}

export interface AppendResult {
  /** The revision of each stream's last event after the append, in request order. */
  streams: { stream: string; revision: number }[];
}

/** An append was refused because a stream was not at the expected revision. Nothing was written. */
export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual last revision, or `'no_stream'`. */
    readonly actual: number | 'no_stream',
  ) {
    super(`stream "${stream}" expected at ${String(expected)} but is at ${String(actual)}`);
  }
}

/** An event id was appended twice. Nothing was written. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(readonly eventId: string) {
    super(`event id ${eventId} is already in the store`);
  }
}

export interface EventStore {
  readonly adapter: 'postgres' | 'kurrentdb' | 'memory';

  /**
   * Appends to several streams atomically: either every stream's events are written (each stream
   * at its expected revision) or none is. Throws WrongExpectedRevisionError or DuplicateEventIdError.
   * Each stream may appear once per call, with at least one event (a TypeError otherwise).
   */
  append(appends: StreamAppend[]): Promise<AppendResult>;

  /** A stream's events in revision order from `fromRevision` (default 0); `[]` when it does not exist. */
  readStream(stream: string, options?: { fromRevision?: number; limit?: number }): Promise<RecordedEvent[]>;

  /**
   * Events of every stream in the global order, after `after` (exclusive; from the start when
   * omitted). Never returns an event that a concurrent, later-committing append could still
   * precede: once read, the order up to that point is final.
   */
  readAll(options?: { after?: string; limit?: number }): Promise<RecordedEvent[]>;

  /**
   * Every event after `after`, then new ones as they are committed, in the global order, until
   * `signal` aborts. Never skips an event, including one whose transaction committed late.
   */
  subscribeAll(options: { after?: string; signal: AbortSignal }): AsyncIterable<RecordedEvent>;

  close(): Promise<void>;
}
