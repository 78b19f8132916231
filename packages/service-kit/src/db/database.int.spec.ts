import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findFreePort } from '@tessera/devstack';
import { createHttpApp } from '../http/app.ts';
import { createLogger } from '../logger.ts';
import { createTestDatabase } from '../testing/index.ts';
import { createDatabase } from './database.ts';

// A database restart (or an operator's pg_terminate_backend) ends every connection of a pool, idle
// ones and ones a transaction holds. The service must ride it out: the process keeps running (an
// 'error' event nobody listens to would crash it), and the next query gets a fresh connection.

let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase('kit_pool_errors');
});

afterAll(async () => {
  await database?.drop();
});

/**
 * Ends every session of the database, and returns once their processes have exited (the timeout
 * argument makes `pg_terminate_backend` wait): by then each socket is closed and the pool hears of
 * it at the next turn of the event loop. Without the wait, a backend scheduled late on a busy machine
 * had not yet closed its connection when the test's next query took it from the pool (a CI failure).
 */
async function terminateBackends(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: string }>(
      'select count(pg_terminate_backend(pid, 5000))::text as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    return Number(rows[0]!.n);
  } finally {
    await admin.end();
  }
}

describe('a pool whose connections are terminated', () => {
  it('survives, idle or held by a transaction, and answers the next query', async () => {
    const db = createDatabase<Record<string, never>>(database.url, { max: 4 });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      // Two connections in the pool; a transaction holds one of them, between two statements.
      await Promise.all([sql`select pg_sleep(0.05)`.execute(db), sql`select pg_sleep(0.05)`.execute(db)]);
      let release!: () => void;
      const held = db
        .transaction()
        .execute(async (trx) => {
          await sql`select 1`.execute(trx);
          await new Promise<void>((resolve) => (release = resolve));
          await sql`select 1`.execute(trx);
        })
        .then(
          () => 'committed',
          (error: Error) => error.message,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The transaction took one of the two: one idle connection, one held.
      const terminated = await terminateBackends(database.url);
      release();
      expect(terminated).toBe(2);
      // The held transaction fails (its connection is gone); nothing else does.
      expect(await held).not.toBe('committed');
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
      expect(rows).toEqual([{ one: 1 }]);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await db.destroy();
    }
  });
});

describe('a request whose database cannot be reached', () => {
  it('is answered 503 SERVICE_UNAVAILABLE with Retry-After, not 500: refused, terminated or back', async () => {
    const port = await findFreePort();
    const url = new URL(database.url);
    const down = createDatabase<Record<string, never>>(`postgres://postgres@127.0.0.1:${port}/nowhere`, {
      max: 1,
    });
    const up = createDatabase<Record<string, never>>(database.url, { max: 1 });
    const app = await createHttpApp({
      name: 'kit-db-down',
      logger: createLogger({ name: 'kit-db-down', level: 'silent', pretty: false }),
    });
    app.get('/down', async () => (await sql<{ one: number }>`select 1 as one`.execute(down)).rows[0]);
    // A statement still running when its connection is terminated: Postgres restarting under it.
    app.get('/terminated', async () => {
      await sql`select pg_sleep(5)`.execute(up);
      return { slept: true };
    });
    // Its own pool: the one above lost its only connection to the terminate, and may hand that dead
    // client out once more before it learns so (a 503, rightly).
    const other = createDatabase<Record<string, never>>(database.url, { max: 1 });
    app.get('/bad-sql', async () => sql`select * from no_such_table`.execute(other));
    try {
      const refused = await app.inject({ url: '/down' });
      expect([refused.statusCode, refused.json().code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.headers['content-type']).toContain('application/problem+json');

      const answer = app.inject({ url: '/terminated' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await terminateBackends(url.toString())).toBe(1);
      const terminated = await answer;
      expect([terminated.statusCode, terminated.json().code]).toEqual([503, 'SERVICE_UNAVAILABLE']);

      // A wrong statement is still our fault: 500, not "try again".
      const bad = await app.inject({ url: '/bad-sql' });
      expect([bad.statusCode, bad.json().code]).toEqual([500, 'INTERNAL_ERROR']);
    } finally {
      await app.close();
      await Promise.all([down.destroy(), up.destroy(), other.destroy()]);
    }
  });

  it('is answered 503 TRY_AGAIN with Retry-After, not 500, when Postgres rolled it back for a deadlock', async () => {
    const app = await createHttpApp({
      name: 'kit-db-deadlock',
      logger: createLogger({ name: 'kit-db-deadlock', level: 'silent', pretty: false }),
    });
    // Two transactions that lock the same two rows in opposite orders.
    const crossing = createDatabase<Record<string, never>>(database.url, { max: 2 });
    await sql`create table if not exists crossing (id text primary key, n int not null)`.execute(crossing);
    await sql`insert into crossing values ('a', 0), ('b', 0) on conflict do nothing`.execute(crossing);
    app.get<{ Params: { order: string } }>('/cross/:order', async (request) => {
      const [first, second] = request.params.order.split('-');
      await crossing.transaction().execute(async (trx) => {
        await sql`update crossing set n = n + 1 where id = ${first}`.execute(trx);
        await sql`select pg_sleep(0.3)`.execute(trx);
        await sql`update crossing set n = n + 1 where id = ${second}`.execute(trx);
      });
      return { crossed: true };
    });
    try {
      // A deadlock rolled one of two crossed transactions back: 503 TRY_AGAIN, the other one 200.
      const crossed = await Promise.all([
        app.inject({ url: '/cross/a-b' }),
        app.inject({ url: '/cross/b-a' }),
      ]);
      expect(crossed.map((r) => r.statusCode).sort()).toEqual([200, 503]);
      const loser = crossed.find((r) => r.statusCode === 503)!;
      expect(loser.json().code).toBe('TRY_AGAIN');
      expect(loser.headers['retry-after']).toBe('1');
    } finally {
      await app.close();
      await crossing.destroy();
    }
  });
});
