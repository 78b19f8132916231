import { sql } from 'kysely';
import type { AnyDatabase } from './kit-migrations.ts';

/**
 * Transaction-level advisory locks by name: held until the transaction ends, on a key Postgres
 * derives from the name (`hashtextextended(name, 0)`), so a name stays the same lock across
 * versions of a service during a rolling upgrade. A lock by name guards what has no row yet to
 * lock (a judge or a task not heard of, a user's first withdrawal) or a whole group at once.
 *
 * Names are namespaced by the caller (`judge:` + id). Two names may hash to one key; that only
 * makes two unrelated things wait on each other now and then, never lets two holders in at once.
 */

/** Takes the lock named `name`, waiting for whoever holds it. */
export async function lockName(trx: AnyDatabase, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(trx);
}

/**
 * `lockName` without waiting: true when the lock is now held (to the end of the transaction), false
 * when another transaction holds it. For background work that can come back to a busy name later.
 */
export async function tryLockName(trx: AnyDatabase, name: string): Promise<boolean> {
  const { rows } = await sql<{ got: boolean }>`
    select pg_try_advisory_xact_lock(hashtextextended(${name}, 0)) as got`.execute(trx);
  return rows[0]!.got;
}

/**
 * Takes the locks of every name in `names` (duplicates once), in the order of their keys: two
 * transactions locking overlapping sets this way never hold one each and wait for the other's.
 * Call it before any row lock the same transactions take, or the row locks can close the cycle.
 */
export async function lockNames(trx: AnyDatabase, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  // The subquery's order is the order the aggregate takes the locks in (a sorted subquery is not
  // flattened into its parent).
  await sql`select count(pg_advisory_xact_lock(key))
            from (select distinct hashtextextended(name, 0) as key
                  from unnest(${names}::text[]) as name order by key) as sorted`.execute(trx);
}
