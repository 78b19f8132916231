import { sql } from 'kysely';

/**
 * The commit horizon of this database, as an xid8 SQL expression: every transaction of this
 * database with a smaller id had ended when the statement's snapshot was taken, so a reader that
 * takes only rows written by transactions below it (in `(transaction_id, position)` order) can
 * never see a smaller one commit later. It is what the outbox relay and the ledger's event store
 * publish up to.
 *
 * `pg_snapshot_xmin(pg_current_snapshot())` is such a horizon too, but the cluster's: the oldest
 * transaction still running in any database. Where services share one Postgres cluster (locally,
 * in CI, in small deployments), one service's slow transaction then held back every service's
 * events: 200–340 ms a hop at 4 approvals/s (`npm run load -- --only e2e --workers 4`, stop 28).
 *
 * This one is the least of the snapshot's xmax and of its in-progress ids (`pg_snapshot_xip`),
 * leaving out only the ids `pg_stat_activity` shows as running in another database. It is read
 * after the snapshot was taken, so an id it does not show (a transaction that ended since, a
 * prepared transaction, a backend whose `backend_xid` this role may not see) counts as possibly
 * ours: the horizon can only be lower than it need be, never higher. Only top-level ids are in
 * `pg_snapshot_xip`; the columns compared with this are `pg_current_xact_id()`, top-level too. An
 * in-progress id and the backend's 32-bit `backend_xid` are matched on their low 32 bits, which is
 * exact because running ids lie within 2^31 of each other.
 */
export const COMMIT_HORIZON_SQL = `(
  select least(pg_snapshot_xmax(pg_current_snapshot()), min(xip.id))
  from pg_snapshot_xip(pg_current_snapshot()) as xip(id)
  where (xip.id::text::bigint & 4294967295) not in (
    select activity.backend_xid::text::bigint
    from pg_stat_activity as activity
    where activity.backend_xid is not null
      and activity.datid is distinct from (select oid from pg_database where datname = current_database())
  )
)`;

/** `COMMIT_HORIZON_SQL` for the query builder. */
export const commitHorizon = sql.raw<string>(COMMIT_HORIZON_SQL);
