import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from './kit-migrations.ts';

export interface KitRetention {
  /** Published outbox rows: kept for a while to diagnose and re-publish by hand. */
  outboxMs: number;
  /**
   * Inbox rows de-duplicate redeliveries, which come within minutes; a consumer reset that replays
   * older events than this would apply them again, so keep it far longer than any replay you plan.
   */
  inboxMs: number;
  /** Idempotency keys protect client retries, which come within minutes or hours. */
  idempotencyKeysMs: number;
}

/** Rows deleted per statement: short statements never hold locks a request would wait on. */
const BATCH = 5_000;

/**
 * Deletes what the kit's tables no longer need: published outbox rows, inbox rows and idempotency
 * keys (when the service has that table) older than their retention. Returns how many rows went.
 */
export async function pruneKitTables(db: AnyDatabase, now: Date, retention: KitRetention): Promise<number> {
  const before = (ms: number) => new Date(now.getTime() - ms);
  let deleted = 0;
  deleted += await deleteInBatches(
    db,
    sql`delete from outbox where position in (
          select position from outbox where published_at < ${before(retention.outboxMs)} limit ${BATCH})`,
  );
  deleted += await deleteInBatches(
    db,
    sql`delete from inbox where (consumer, event_id) in (
          select consumer, event_id from inbox where handled_at < ${before(retention.inboxMs)} limit ${BATCH})`,
  );
  // Items that failed now and then but were never parked, long ago (parked ones wait for an operator).
  deleted += await deleteInBatches(
    db,
    sql`delete from job_item_failures where (job, item) in (
          select job, item from job_item_failures
          where parked_at is null and last_failed_at < ${before(retention.inboxMs)} limit ${BATCH})`,
  );
  if (await tableExists(db, 'idempotency_keys')) {
    deleted += await deleteInBatches(
      db,
      sql`delete from idempotency_keys where (principal_id, operation, key) in (
            select principal_id, operation, key from idempotency_keys
            where created_at < ${before(retention.idempotencyKeysMs)} limit ${BATCH})`,
    );
  }
  return deleted;
}

async function deleteInBatches(db: Kysely<unknown>, statement: ReturnType<typeof sql>): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await statement.execute(db);
    const count = Number(result.numAffectedRows ?? 0n);
    total += count;
    if (count < BATCH) return total;
  }
}

async function tableExists(db: Kysely<unknown>, table: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`select to_regclass(${table}) is not null as found`.execute(
    db,
  );
  return rows[0]?.found ?? false;
}
