import { sql, type Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';

/** The worker's name (tests switch it off and run `pruneDeliveryLog` by hand). */
export const WEBHOOK_LOG_PRUNER = 'engagement-webhook-log-pruner';

/** Deliveries removed per statement; a run repeats until fewer remain. */
export const PRUNE_BATCH = 1_000;

/**
 * Forgets settled deliveries (delivered, failed, cancelled) last changed before `before`, with
 * their attempts, at most `limit` of them; then the webhooks deleted before `before` whose log is
 * gone, with their sealed secrets. A pending delivery is never removed (nor its webhook), and one
 * redelivered while this runs is left alone: the rows are locked and checked again, skipping those
 * another transaction holds. A bus event handled again after its delivery was forgotten would queue
 * it anew; the retention (days) is far beyond the bus's redelivery window (minutes). Returns how
 * many deliveries it removed.
 */
export async function pruneDeliveryLog(
  db: Kysely<EngagementDB>,
  before: Date,
  limit = PRUNE_BATCH,
): Promise<number> {
  const removed = await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string }>`
      with old as (
        select id from webhook_deliveries
        where status <> 'pending' and updated_at < ${before}
        order by updated_at
        limit ${limit}
        for update skip locked
      ), attempts as (
        delete from webhook_delivery_attempts where delivery_id in (select id from old)
      )
      delete from webhook_deliveries where id in (select id from old)
      returning id`.execute(trx);
    return rows.length;
  });
  if (removed < limit) {
    await sql`
      delete from webhooks w
      where w.deleted_at < ${before}
        and not exists (select 1 from webhook_deliveries d where d.webhook_id = w.id)`.execute(db);
  }
  return removed;
}
