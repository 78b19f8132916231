import { commitHorizon, isUniqueViolation, pgErrorOf } from '@tessera/service-kit';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { validateAppends } from './append-rules.ts';
import {
  type AppendResult,
  DuplicateEventIdError,
  type EventStore,
  type JsonObject,
  type RecordedEvent,
  type StreamAppend,
  WrongExpectedRevisionError,
} from './event-store.ts';
import { EVENTS_CHANNEL, migrateEventStore, WRONG_EXPECTED_REVISION } from './postgres-schema.ts';

export { migrateEventStore, postgresEventStoreMigrations } from './postgres-schema.ts';

export interface PostgresEventStoreOptions {
  /** The ledger's database, or its URL (the store then owns a pool it closes on `close()`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any> | string;
  /** For LISTEN; defaults to `db` when that is a URL. Without it, subscriptions only poll. */
  databaseUrl?: string;
  /** Pool size when the store creates its own pool. */
  poolSize?: number;
  /** How often a subscription looks for new events when no NOTIFY woke it. */
  pollIntervalMs?: number;
  /** Events per read while a subscription catches up. */
  batchSize?: number;
  /** NOTIFY subscribers in other processes after appends (this process's are woken directly). */
  notify?: boolean;
  /** Runs `migrateEventStore` before the store is returned. */
  migrate?: boolean;
  /** Appends of more streams than this use the set-based es_append_set (default 16; 0: always). */
  setBasedFrom?: number;
  /** Test hook: runs inside an append's transaction after everything is written, before commit. */
  hooks?: { beforeCommit?: () => Promise<void> };
}

interface EventRow {
  global_position: string;
  transaction: string;
  stream: string;
  revision: number | string;
  event_id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  recorded_at: Date;
}

type AppendRow = { request_index: number; last_revision: number | string };

/** The longest pause between looks while committed events wait behind an older open transaction. */
const HELD_BACK_MAX_MS = 100;

// xid8 and bigint are at most 20 decimal digits: fixed width makes checkpoints sort as they order.
const CHECKPOINT = /^(\d{20})\.(\d{20})$/;

export function encodeCheckpoint(transactionId: string, position: string): string {
  return `${transactionId.padStart(20, '0')}.${position.padStart(20, '0')}`;
}

export function decodeCheckpoint(checkpoint: string): { transactionId: string; position: string } {
  const match = CHECKPOINT.exec(checkpoint);
  if (!match?.[1] || !match[2])
    throw new TypeError(`not a checkpoint of the Postgres event store: "${checkpoint}"`);
  return { transactionId: BigInt(match[1]).toString(), position: BigInt(match[2]).toString() };
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    stream: row.stream,
    revision: Number(row.revision),
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
    checkpoint: encodeCheckpoint(row.transaction, row.global_position),
  };
}

// Aliases differ from column names: ORDER BY would otherwise sort by the text aliases.
const columns = sql`position::text as global_position, transaction_id::text as transaction, stream, revision,
  event_id::text as event_id, type, data, metadata, recorded_at`;

function mapAppendError(error: unknown, appends: StreamAppend[]): unknown {
  const detail = (error as { detail?: unknown } | null)?.detail;
  const text = typeof detail === 'string' ? detail : '';
  if (pgErrorOf(error)?.code === WRONG_EXPECTED_REVISION && text) {
    const { stream, actual } = JSON.parse(text) as { stream: string; actual: number | string | null };
    const expected = appends.find((a) => a.stream === stream)?.expected ?? 'any';
    return new WrongExpectedRevisionError(stream, expected, actual === null ? 'no_stream' : Number(actual));
  }
  if (isUniqueViolation(error, 'es_events_event_id_key')) {
    const id = /\(event_id\)=\(([^)]+)\)/.exec(text)?.[1] ?? 'unknown';
    return new DuplicateEventIdError(id);
  }
  return error;
}

/**
 * The default event store, on the ledger's own Postgres. An append is one call of `es_append`
 * (see postgres-schema.ts): one statement, one round trip, all-or-nothing. Global reads follow
 * (transaction_id, position) and stop below the oldest transaction of this database still running
 * (the kit's `commitHorizon`), as the kit's outbox relay does, so a late-committing append is
 * delivered rather than skipped.
 */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const ownsPool = typeof options.db === 'string';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const db: Kysely<any> =
    typeof options.db === 'string' ? ownDatabase(options.db, options.poolSize) : options.db;
  const databaseUrl = options.databaseUrl ?? (typeof options.db === 'string' ? options.db : undefined);
  const notify = options.notify ?? true;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const batchSize = options.batchSize ?? 500;
  const setBasedFrom = options.setBasedFrom ?? 16;
  if (options.migrate) await migrateEventStore(db);

  const listener = new CommitListener(databaseUrl);
  const notifier = new Notifier(db);
  let closed = false;

  async function append(appends: StreamAppend[]): Promise<AppendResult> {
    if (closed) throw new Error('event store is closed');
    validateAppends(appends);
    if (appends.length === 0) return { streams: [] };
    const request = JSON.stringify(
      appends.map(({ stream, expected, events }) => ({ stream, expected: String(expected), events })),
    );
    const call =
      appends.length > setBasedFrom
        ? sql<AppendRow>`select request_index, last_revision from es_append_set(${request}::jsonb)`
        : sql<AppendRow>`select request_index, last_revision from es_append(${request}::jsonb)`;
    try {
      const beforeCommit = options.hooks?.beforeCommit;
      const { rows } = beforeCommit
        ? await db.transaction().execute(async (trx) => {
            const result = await call.execute(trx);
            await beforeCommit();
            return result;
          })
        : await call.execute(db);
      listener.poke();
      if (notify) notifier.signal();
      const revisions = new Map(rows.map((r) => [r.request_index, Number(r.last_revision)]));
      return { streams: appends.map(({ stream }, i) => ({ stream, revision: revisions.get(i) ?? -1 })) };
    } catch (error) {
      throw mapAppendError(error, appends);
    }
  }

  async function readAll(read: { after?: string; limit?: number } = {}): Promise<RecordedEvent[]> {
    const after = read.after === undefined ? undefined : decodeCheckpoint(read.after);
    const { rows } = await sql<EventRow>`
      select ${columns} from es_events
      where transaction_id < ${commitHorizon}
        ${after ? sql`and (transaction_id, position) > (${after.transactionId}::xid8, ${after.position}::bigint)` : sql``}
      order by transaction_id, position
      ${read.limit === undefined ? sql`` : sql`limit ${read.limit}`}`.execute(db);
    return rows.map(toRecorded);
  }

  /**
   * Committed events after `after` that the last readAll did not return: held back behind an older
   * open transaction of this database, or released since (that transaction ended between the two
   * statements). Asking "held back below the horizon now" instead missed the second case, and the
   * subscription then slept a whole poll interval with events ready: a race that fits the two 30 s
   * timeouts (at a 60 s poll) of "delivers an event held back … as soon as that one ends".
   */
  async function heldBack(after: string | undefined): Promise<boolean> {
    const from = after === undefined ? undefined : decodeCheckpoint(after);
    const { rows } = await sql<{ held: boolean }>`
      select exists (
        select 1 from es_events
        ${from ? sql`where (transaction_id, position) > (${from.transactionId}::xid8, ${from.position}::bigint)` : sql``}
      ) as held`.execute(db);
    return rows[0]?.held === true;
  }

  async function* subscribeAll(subscription: { after?: string; signal: AbortSignal }) {
    const { signal } = subscription;
    let after = subscription.after;
    if (after !== undefined) decodeCheckpoint(after);
    await listener.start();
    let heldBackWait = 0;
    while (!signal.aborted && !closed) {
      const seen = listener.commits;
      const batch = await readAll({ after, limit: batchSize });
      for (const event of batch) {
        if (signal.aborted) return;
        yield event;
        after = event.checkpoint;
      }
      if (batch.length === batchSize || listener.commits !== seen) {
        heldBackWait = 0;
        continue;
      }
      // Events committed behind an older open transaction bring no new commit to wake on: look
      // again within milliseconds, doubling up to HELD_BACK_MAX_MS, rather than at the next poll.
      // Doubling up to the poll interval once left them waiting long after the transaction ended.
      if (await heldBack(after)) {
        heldBackWait = Math.min(pollIntervalMs, HELD_BACK_MAX_MS, Math.max(2, heldBackWait * 2));
        await listener.next(heldBackWait, signal);
        continue;
      }
      heldBackWait = 0;
      await listener.next(pollIntervalMs, signal);
    }
  }

  return {
    adapter: 'postgres',
    append,
    async readStream(stream, read = {}) {
      const { rows } = await sql<EventRow>`
        select ${columns} from es_events
        where stream = ${stream} and revision >= ${read.fromRevision ?? 0}
        order by revision
        ${read.limit === undefined ? sql`` : sql`limit ${read.limit}`}`.execute(db);
      return rows.map(toRecorded);
    },
    readAll,
    subscribeAll,
    async close() {
      closed = true;
      await notifier.stop();
      await listener.stop();
      if (ownsPool) await db.destroy();
    },
  };
}

function ownDatabase(url: string, max = 10): Kysely<unknown> {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client losing its connection (server restart, shutdown) is dropped by the pool; without
  // a listener the 'error' event would crash the process. Queries in flight still reject.
  pool.on('error', () => undefined);
  return new Kysely({ dialect: new PostgresDialect({ pool }) });
}

/**
 * One LISTEN connection per store, shared by its subscriptions. It only wakes them early: if it
 * cannot connect or drops, subscriptions keep polling.
 */
class CommitListener {
  /** How many commit notifications have arrived; a change means "read again". */
  commits = 0;
  private client: pg.Client | undefined;
  private starting: Promise<void> | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly url: string | undefined) {}

  start(): Promise<void> {
    if (!this.url) return Promise.resolve();
    return (this.starting ??= this.connect(this.url));
  }

  private async connect(url: string): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    client.on('notification', () => this.poke());
    client.on('error', () => {
      this.client = undefined;
      this.starting = undefined;
    });
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
      this.client = client;
    } catch {
      this.starting = undefined;
      await client.end().catch(() => undefined);
    }
  }

  /** An append of this process committed: wake its subscriptions without a round trip. */
  poke(): void {
    this.commits += 1;
    for (const wake of this.waiters) wake();
  }

  /** Resolves on the next notification, after `ms`, or when `signal` aborts. */
  next(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async stop(): Promise<void> {
    for (const wake of this.waiters) wake();
    const client = this.client;
    this.client = undefined;
    this.starting = undefined;
    await client?.end().catch(() => undefined);
  }
}

/**
 * Tells other processes that events were committed, after the fact and coalesced: at most one
 * NOTIFY in flight, and one more if appends committed meanwhile. NOTIFY inside the append would
 * hold Postgres's notification lock through the append's commit and serialise all writers.
 */
class Notifier {
  private inFlight: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(private readonly db: Kysely<any>) {}

  signal(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.send();
  }

  private async send(): Promise<void> {
    do {
      this.again = false;
      // Best effort: subscribers elsewhere still poll.
      await sql`select pg_notify(${EVENTS_CHANNEL}, '')`.execute(this.db).catch(() => undefined);
    } while (this.again && !this.stopped);
    this.inFlight = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.inFlight;
  }
}
