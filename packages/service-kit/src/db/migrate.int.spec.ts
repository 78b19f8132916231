import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/index.ts';
import { createDatabase } from './database.ts';
import { migrateToLatest, migrationRuns, type ServiceMigration } from './migrate.ts';

let database: { url: string; drop(): Promise<void> };
let db: Kysely<unknown>;

beforeEach(async () => {
  database = await createTestDatabase('migrate');
  db = createDatabase<unknown>(database.url, { max: 8 });
});

afterEach(async () => {
  await db?.destroy();
  await database?.drop();
});

const applied = async () =>
  (await sql<{ name: string }>`select name from service_migrations order by name`.execute(db)).rows.map(
    (r) => r.name,
  );

const indexes = async (table: string) =>
  (
    await sql<{ indexname: string; valid: boolean }>`
      select i.indexname, x.indisvalid as valid from pg_indexes i
      join pg_class c on c.relname = i.indexname join pg_index x on x.indexrelid = c.oid
      where i.tablename = ${table} order by i.indexname`.execute(db)
  ).rows;

/** Three migrations: a table, an index built concurrently (outside a transaction), a column. */
function migrations(log: string[] = []): Record<string, ServiceMigration> {
  return {
    '0001_items': {
      async up(db: Kysely<unknown>) {
        log.push('0001');
        await sql`create table items (id int primary key, label text not null)`.execute(db);
      },
    },
    '0002_items_by_label': {
      transaction: false,
      async up(db: Kysely<unknown>) {
        log.push('0002');
        await sql`drop index concurrently if exists items_by_label`.execute(db);
        await sql`create index concurrently items_by_label on items (label)`.execute(db);
      },
    },
    '0003_items_note': {
      async up(db: Kysely<unknown>) {
        log.push('0003');
        await sql`alter table items add column note text`.execute(db);
      },
      // Never called by migrateToLatest: a run asked to migrate to a migration already applied
      // before one with a `down` would roll that one back.
      async down(db: Kysely<unknown>) {
        log.push('down 0003');
        await sql`alter table items drop column note`.execute(db);
      },
    },
  };
}

describe('migrationRuns', () => {
  it('keeps transactional migrations together and puts each one outside a transaction alone, in name order', () => {
    const up = async () => {};
    expect(
      migrationRuns({
        b: { up },
        a: { up },
        c: { up, transaction: false },
        d: { up, transaction: false },
        e: { up },
        f: { up },
      }),
    ).toEqual([
      { last: 'b', transaction: true },
      { last: 'c', transaction: false },
      { last: 'd', transaction: false },
      { last: 'f', transaction: true },
    ]);
  });
});

describe('migrateToLatest', () => {
  it('builds an index concurrently in a migration outside a transaction, between two in one', async () => {
    const log: string[] = [];
    await migrateToLatest(db, migrations(log));

    expect(log).toEqual(['0001', '0002', '0003']);
    expect(await applied()).toEqual(['0001_items', '0002_items_by_label', '0003_items_note']);
    expect(await indexes('items')).toEqual([
      { indexname: 'items_by_label', valid: true },
      { indexname: 'items_pkey', valid: true },
    ]);
  });

  it('refuses the same concurrent build inside a transaction: what `transaction: false` is for', async () => {
    const inTransaction = Object.fromEntries(
      Object.entries(migrations()).map(([name, m]) => [name, { up: m.up }]),
    );
    await expect(migrateToLatest(db, inTransaction)).rejects.toThrow(
      /0002_items_by_label failed: DROP INDEX CONCURRENTLY cannot run inside a transaction block/,
    );
    // The failed run was one transaction: nothing of it stayed.
    expect(await applied()).toEqual([]);
  });

  it('runs nothing twice when run again, nor when two instances start at once', async () => {
    const first: string[] = [];
    await migrateToLatest(db, migrations(first));
    const again: string[] = [];
    await migrateToLatest(db, migrations(again));
    expect(again).toEqual([]);

    // A fresh database, and two instances starting on it at the same moment.
    await db.destroy();
    await database.drop();
    database = await createTestDatabase('migrate');
    db = createDatabase<unknown>(database.url, { max: 8 });
    const a: string[] = [];
    const b: string[] = [];
    await Promise.all([migrateToLatest(db, migrations(a)), migrateToLatest(db, migrations(b))]);
    expect([...a, ...b].sort()).toEqual(['0001', '0002', '0003']);
    expect(await applied()).toEqual(['0001_items', '0002_items_by_label', '0003_items_note']);
  });

  it('runs on a pool of one connection: the migrations use the connection that holds the lock', async () => {
    const single = createDatabase<unknown>(database.url, { max: 1 });
    try {
      const log: string[] = [];
      await migrateToLatest(single, migrations(log));
      expect(log).toEqual(['0001', '0002', '0003']);
      expect(await applied()).toEqual(['0001_items', '0002_items_by_label', '0003_items_note']);
      // The lock was given back on that connection: a second instance takes it and finds nothing to do.
      const again: string[] = [];
      await migrateToLatest(db, migrations(again));
      expect(again).toEqual([]);
    } finally {
      await single.destroy();
    }
  });

  it('keeps what ran before a failing migration outside a transaction, and goes on from it once mended', async () => {
    const broken = migrations();
    broken['0002_items_by_label'] = {
      transaction: false,
      async up(db: Kysely<unknown>) {
        await sql`insert into items values (1, 'a'), (2, 'a')`.execute(db);
        // A unique index the rows break: the concurrent build fails and leaves an invalid index.
        await sql`create unique index concurrently items_by_label on items (label)`.execute(db);
      },
    };
    await expect(migrateToLatest(db, broken)).rejects.toThrow(/0002_items_by_label failed/);
    expect(await applied()).toEqual(['0001_items']);
    expect(await indexes('items')).toContainEqual({ indexname: 'items_by_label', valid: false });

    const log: string[] = [];
    await migrateToLatest(db, migrations(log));
    expect(log).toEqual(['0002', '0003']);
    expect(await indexes('items')).toContainEqual({ indexname: 'items_by_label', valid: true });
  });
});
