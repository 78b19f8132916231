import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/index.ts';
import { commitHorizon } from './commit-horizon.ts';
import { createDatabase } from './database.ts';

// Two databases of one cluster, as the services share one locally.
let ours: { url: string; drop(): Promise<void> };
let theirs: { url: string; drop(): Promise<void> };
let db: Kysely<unknown>;

beforeAll(async () => {
  ours = await createTestDatabase('horizon_ours');
  theirs = await createTestDatabase('horizon_theirs');
  db = createDatabase<unknown>(ours.url);
});

afterAll(async () => {
  await db?.destroy();
  await ours?.drop();
  await theirs?.drop();
});

/** A client with a transaction open that holds an id, until `end()` (which may be called twice). */
async function openTransaction(url: string): Promise<{ xid: bigint; end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  const { rows } = await client.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
  let ended = false;
  return {
    xid: BigInt(rows[0]!.xid),
    async end() {
      if (ended) return;
      ended = true;
      await client.query('rollback');
      await client.end();
    },
  };
}

/**
 * A committed transaction of this database: a snapshot's xmax is the latest completed id + 1, so
 * only after a later commit are the open transactions before it in the snapshot's in-progress list.
 */
async function commitOne(): Promise<void> {
  await sql`select pg_current_xact_id()`.execute(db);
}

async function horizonOf(
  database: Kysely<unknown>,
): Promise<{ horizon: bigint; xmin: bigint; xmax: bigint }> {
  const { rows } = await sql<{ horizon: string; xmin: string; xmax: string }>`
    select ${commitHorizon}::text as horizon,
      pg_snapshot_xmin(pg_current_snapshot())::text as xmin,
      pg_snapshot_xmax(pg_current_snapshot())::text as xmax`.execute(database);
  const row = rows[0]!;
  return { horizon: BigInt(row.horizon), xmin: BigInt(row.xmin), xmax: BigInt(row.xmax) };
}

describe('commit horizon', () => {
  it("passes another database's open transaction, where the cluster's xmin stops at it", async () => {
    const foreign = await openTransaction(theirs.url);
    try {
      await commitOne();
      const { horizon, xmin, xmax } = await horizonOf(db);
      // At it, or before it when another test file's transaction is older still.
      expect(xmin).toBeLessThanOrEqual(foreign.xid);
      expect(horizon).toBeGreaterThan(foreign.xid);
      expect(horizon).toBe(xmax);
    } finally {
      await foreign.end();
    }
  });

  it("stops at this database's oldest open transaction, behind another database's", async () => {
    const foreign = await openTransaction(theirs.url);
    const older = await openTransaction(ours.url);
    const newer = await openTransaction(ours.url);
    try {
      await commitOne();
      const { horizon } = await horizonOf(db);
      expect(foreign.xid).toBeLessThan(older.xid);
      expect(horizon).toBe(older.xid);
      await older.end();
      expect((await horizonOf(db)).horizon).toBe(newer.xid);
    } finally {
      await foreign.end();
      await older.end();
      await newer.end();
    }
  });

  it('is computed the same by a role with no privileges on pg_stat_activity (backend_xid is visible to all)', async () => {
    const role = `horizon_reader_${Date.now()}`;
    await sql.raw(`create role ${role} login password 'reader'`).execute(db);
    const url = new URL(ours.url);
    url.username = role;
    url.password = 'reader';
    const reader = createDatabase<unknown>(url.toString());
    const foreign = await openTransaction(theirs.url);
    try {
      await commitOne();
      const { horizon, xmax } = await horizonOf(reader);
      expect(horizon).toBe(xmax);
      expect(horizon).toBeGreaterThan(foreign.xid);
    } finally {
      await foreign.end();
      await reader.destroy();
      await sql.raw(`drop role ${role}`).execute(db);
    }
  });
});
