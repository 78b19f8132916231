import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { TEST_POSTGRES_ENV } from './env.ts';
import { resolvePostgres, startEmbeddedPostgres } from './postgres.ts';

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('Postgres', () => {
  it('is provided by the global setup', async () => {
    expect(await query(inject('postgresUrl'), 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('is resolved the way the tests resolve it', async () => {
    const postgres = await resolvePostgres({ envNames: TEST_POSTGRES_ENV });
    try {
      expect(await query(postgres.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      await postgres.stop();
    }
  });

  it('embedded: keeps a persistent cluster across restarts, with room for many connections', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'devstack-int-'));
    await chmod(parent, 0o755); // as root, Postgres runs as the postgres user, who must reach its data
    const dataDir = path.join(parent, 'postgres');
    try {
      const first = await startEmbeddedPostgres({ dataDir, persistent: true });
      await query(first.url, 'create table kept (value text); insert into kept values ($$still here$$)');
      expect(await query(first.url, 'show max_connections')).toEqual([{ max_connections: '300' }]);
      await first.stop();

      const second = await startEmbeddedPostgres({ dataDir, persistent: true });
      try {
        expect(await query(second.url, 'select value from kept')).toEqual([{ value: 'still here' }]);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('embedded: counts statements per database when asked to track them', async () => {
    const postgres = await startEmbeddedPostgres({ trackStatements: true });
    try {
      await query(postgres.url, 'create extension pg_stat_statements');
      await query(postgres.url, 'select pg_stat_statements_reset()');
      for (let i = 0; i < 3; i++) await query(postgres.url, 'select 41 + 1 as answer');
      const counted = await query(
        postgres.url,
        `select s.calls::int as calls from pg_stat_statements s
         where s.query like 'select $1 + $2 as answer%' and s.dbid = (select oid from pg_database where datname = 'postgres')`,
      );
      expect(counted).toEqual([{ calls: 3 }]);
    } finally {
      await postgres.stop();
    }
  });
});
