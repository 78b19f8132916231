import type { Kysely } from 'kysely';
import type { EventStore, RecordedEvent } from '../store/event-store.ts';
import type { AuditTables } from './tables.ts';

/** Every event of the store in the global order, page by page; ends where the store ends now. */
export async function* storeEvents(store: EventStore, pageSize = 5000): AsyncGenerator<RecordedEvent> {
  let after: string | undefined;
  for (;;) {
    const page = await store.readAll({ after, limit: pageSize });
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = last.checkpoint;
  }
}

export type ChainRow = AuditTables['audit_chain'];
export interface SealRow {
  seq: number;
  hash: string;
  sealed_at: string;
  key_id: string;
  signature: string;
}

export async function* chainRows(db: Kysely<AuditTables>, pageSize = 5000): AsyncGenerator<ChainRow> {
  let after = 0;
  for (;;) {
    const page = await db
      .selectFrom('audit_chain')
      .select(['seq', 'event_id', 'checkpoint', 'hash', 'prev_hash'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of page) yield { ...row, seq: Number(row.seq) };
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = Number(last.seq);
  }
}

export async function* sealRows(db: Kysely<AuditTables>, pageSize = 5000): AsyncGenerator<SealRow> {
  let after = 0;
  for (;;) {
    const page = await db
      .selectFrom('audit_seals')
      .select(['seq', 'hash', 'sealed_at', 'key_id', 'signature'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of page) yield { ...row, seq: Number(row.seq), sealed_at: row.sealed_at.toISOString() };
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = Number(last.seq);
  }
}

/** An async iterator one can look ahead in. */
export class Cursor<T> {
  private buffered: IteratorResult<T> | undefined;

  constructor(private readonly iterator: AsyncIterator<T>) {}

  async peek(): Promise<T | undefined> {
    this.buffered ??= await this.iterator.next();
    return this.buffered.done ? undefined : this.buffered.value;
  }

  async next(): Promise<T | undefined> {
    const value = await this.peek();
    if (this.buffered && !this.buffered.done) this.buffered = undefined;
    return value;
  }
}

export function emptyCursor<T>(): Cursor<T> {
  return new Cursor<T>((async function* (): AsyncGenerator<T> {})());
}
