import { commitHorizon } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { EventStore, JsonObject, RecordedEvent } from '../store/event-store.ts';
import { encodeCheckpoint } from '../store/postgres-store.ts';
import { prefetchedPages } from './pg-rows.ts';
import type { AuditTables } from './tables.ts';

/**
 * Rows per page of the audit's reads: large enough that round trips cost little, small enough that
 * the two pages in memory at a time (the one being checked, the next one being fetched) fit in V8's
 * young generation. Both pages outlive the minor GCs that run while they are held, and each of those
 * copies them: at 5,000 rows minor GCs were a quarter of `verify`'s CPU; at 1,000 rows they take
 * about half as long and the peak RSS is 150 MB lower (bench/audit.ts, 300k events).
 */
export const AUDIT_PAGE_SIZE = 1_000;

interface EventRow {
  tx: string;
  pos: string;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  recorded_at: Date;
}

/**
 * The Postgres event store's log read straight from `es_events`, exactly as the store's `readAll`
 * returns it (ordered by (transaction_id, position), only below the commit horizon, so
 * that a late commit is never skipped, the same checkpoints), in large prefetched pages.
 */
export function readEventPages(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  pageSize = AUDIT_PAGE_SIZE,
): AsyncGenerator<RecordedEvent[]> {
  const fetch = (after: EventRow | undefined) =>
    sql<EventRow>`
      select transaction_id::text as tx, position::text as pos, stream, revision::float8 as revision,
        event_id::text as id, type, data, metadata, recorded_at
      from es_events
      where transaction_id < ${commitHorizon}
        ${after ? sql`and (transaction_id, position) > (${after.tx}::xid8, ${after.pos}::bigint)` : sql``}
      order by transaction_id, position
      limit ${pageSize}`
      .execute(db)
      .then((result) => result.rows);
  return mapPages(prefetchedPages(fetch, pageSize), (row) => ({
    id: row.id,
    stream: row.stream,
    revision: row.revision,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
    checkpoint: encodeCheckpoint(row.tx, row.pos),
  }));
}

async function* mapPages<A, B>(pages: AsyncIterable<A[]>, map: (row: A) => B): AsyncGenerator<B[]> {
  for await (const page of pages) yield page.map(map);
}

/** Every event of the store in the global order, page by page; ends where the store ends now. */
export async function* storeEventPages(
  store: EventStore,
  pageSize = AUDIT_PAGE_SIZE,
): AsyncGenerator<RecordedEvent[]> {
  let after: string | undefined;
  for (;;) {
    const page = await store.readAll({ after, limit: pageSize });
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = last.checkpoint;
  }
}

/**
 * The store's events for the audit: straight from the tables of the Postgres store in `db` (the
 * same rows in the same order as its `readAll`, faster), through `readAll` for any other store.
 */
export function auditEventPages(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  store: EventStore,
  pageSize = AUDIT_PAGE_SIZE,
): AsyncGenerator<RecordedEvent[]> {
  return store.adapter === 'postgres' ? readEventPages(db, pageSize) : storeEventPages(store, pageSize);
}

/** Every event of the store in the global order, one at a time. */
export async function* storeEvents(
  store: EventStore,
  pageSize = AUDIT_PAGE_SIZE,
): AsyncGenerator<RecordedEvent> {
  for await (const page of storeEventPages(store, pageSize)) yield* page;
}

export type ChainRow = AuditTables['audit_chain'];
export interface SealRow {
  seq: number;
  hash: string;
  sealed_at: string;
  key_id: string;
  signature: string;
}

export function chainPages(db: Kysely<AuditTables>, pageSize = AUDIT_PAGE_SIZE): AsyncGenerator<ChainRow[]> {
  const fetch = async (after: ChainRow | undefined) => {
    const rows = await db
      .selectFrom('audit_chain')
      .select([sql<number>`seq::float8`.as('seq'), 'event_id', 'checkpoint', 'hash', 'prev_hash'])
      .where('seq', '>', after?.seq ?? 0)
      .orderBy('audit_chain.seq')
      .limit(pageSize)
      .execute();
    return rows;
  };
  return prefetchedPages(fetch, pageSize);
}

export function sealPages(db: Kysely<AuditTables>, pageSize = AUDIT_PAGE_SIZE): AsyncGenerator<SealRow[]> {
  const fetch = async (after: SealRow | undefined) => {
    const rows = await db
      .selectFrom('audit_seals')
      .select(['seq', 'hash', 'sealed_at', 'key_id', 'signature'])
      .where('seq', '>', after?.seq ?? 0)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    return rows.map((row) => ({ ...row, seq: Number(row.seq), sealed_at: row.sealed_at.toISOString() }));
  };
  return prefetchedPages(fetch, pageSize);
}

/**
 * Rows of a paged source taken one at a time: `take` and `peek` answer at once while the current
 * page lasts, and only `fill` (once a page) awaits, so the audit does not await once per row.
 */
export class PageCursor<T> {
  private page: readonly T[] = [];
  private index = 0;
  private done = false;
  private readonly pages: AsyncIterator<readonly T[]> | undefined;

  constructor(pages?: AsyncIterable<readonly T[]> | Iterable<readonly T[]>) {
    if (!pages) this.done = true;
    else if (Symbol.asyncIterator in pages) this.pages = pages[Symbol.asyncIterator]();
    else {
      const iterator = pages[Symbol.iterator]();
      this.pages = { next: () => Promise.resolve(iterator.next()) };
    }
  }

  /** Whether `peek` and `take` can answer without `fill`. */
  get ready(): boolean {
    return this.done || this.index < this.page.length;
  }

  async fill(): Promise<void> {
    while (!this.ready) {
      const next = await this.pages!.next();
      if (next.done) this.done = true;
      else {
        this.page = next.value;
        this.index = 0;
      }
    }
  }

  /** The next row, or undefined at the end; call `fill` first unless `ready`. */
  peek(): T | undefined {
    return this.page[this.index];
  }

  take(): T | undefined {
    const row = this.page[this.index];
    if (row !== undefined) this.index += 1;
    return row;
  }
}
