import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase } from './db/database.ts';
import type { KitTables } from './db/kit-migrations.ts';
import { migrateToLatest } from './db/migrate.ts';
import { eachOnItsOwn } from './jobs.ts';
import { createLogger } from './logger.ts';
import {
  isParked,
  listParkedItems,
  notParked,
  parkItem,
  recordFailure,
  retryParkedItem,
} from './parked-items.ts';
import { createTestDatabase } from './testing/index.ts';

const logger = createLogger({ name: 'parking-test', level: 'silent', pretty: false });
let db: Kysely<KitTables>;
let drop: () => Promise<void>;

beforeAll(async () => {
  const database = await createTestDatabase('parking');
  drop = database.drop;
  db = createDatabase<KitTables>(database.url);
  await migrateToLatest(db as Kysely<unknown>);
  await sql`create table due_items (id text primary key, due int not null)`.execute(db);
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

beforeEach(async () => {
  await sql`truncate due_items, job_item_failures`.execute(db);
});

/** A job over `due_items`, oldest first, `limit` a run, failing on the ids in `bad` (with `error`). */
async function run(
  bad: Set<string>,
  parked: string[],
  options: { limit?: number; after?: number; error?: (id: string) => Error } = {},
) {
  const due = await db
    .selectFrom('due_items' as never)
    .select(sql<string>`id`.as('id'))
    .where(notParked('test-job', 'due_items.id'))
    .orderBy(sql`due`)
    .limit(options.limit ?? 10)
    .execute();
  const handled: string[] = [];
  await eachOnItsOwn(
    due,
    async ({ id }) => {
      if (bad.has(id)) throw options.error?.(id) ?? new Error(`item ${id} is bad`);
      handled.push(id);
    },
    {
      logger,
      message: 'failed',
      describe: ({ id }) => ({ id }),
      counted: {
        job: 'test-job',
        metrics: { itemFailed: () => undefined, itemParked: (job) => parked.push(job) },
        park: { db, key: ({ id }) => id, ...(options.after ? { after: options.after } : {}) },
      },
    },
  );
  return handled;
}

const failures = () =>
  db
    .selectFrom('job_item_failures')
    .select(['item', 'failures', 'error', sql<boolean>`parked_at is not null`.as('parked')])
    .orderBy('item')
    .execute();

describe('parking the items a job keeps failing on', () => {
  it('parks an item after its failures in a row, and the runs then reach what was behind it', async () => {
    // Two bad items first and a run of two: without parking, nothing behind them is ever reached.
    await sql`insert into due_items values ('a', 1), ('b', 2), ('c', 3)`.execute(db);
    const bad = new Set(['a', 'b']);
    const parked: string[] = [];
    expect(await run(bad, parked, { limit: 2, after: 3 })).toEqual([]);
    expect(await run(bad, parked, { limit: 2, after: 3 })).toEqual([]);
    expect(await failures()).toEqual([
      { item: 'a', failures: 2, error: 'item a is bad', parked: false },
      { item: 'b', failures: 2, error: 'item b is bad', parked: false },
    ]);
    expect(await run(bad, parked, { limit: 2, after: 3 })).toEqual([]);
    expect(parked).toEqual(['test-job', 'test-job']);
    expect(await run(bad, parked, { limit: 2, after: 3 })).toEqual(['c']);
    expect((await failures()).map((f) => [f.item, f.failures, f.parked])).toEqual([
      ['a', 3, true],
      ['b', 3, true],
    ]);
  });

  it('forgets the failures of an item handled at last', async () => {
    await sql`insert into due_items values ('a', 1), ('b', 2)`.execute(db);
    const bad = new Set(['a']);
    await run(bad, []);
    await run(bad, []);
    expect((await failures()).map((f) => [f.item, f.failures])).toEqual([['a', 2]]);
    bad.clear();
    expect(await run(bad, [])).toEqual(['a', 'b']);
    expect(await failures()).toEqual([]);
  });

  it('counts failures in a row only: not those a day apart, nor a deadlock', async () => {
    await sql`insert into due_items values ('a', 1), ('b', 2)`.execute(db);
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    await sql`insert into job_item_failures values ('test-job', 'a', 4, 'old', ${dayAgo}, ${dayAgo}, null)`.execute(
      db,
    );
    const parked: string[] = [];
    await run(new Set(['a']), parked);
    expect((await failures()).map((f) => [f.item, f.failures, f.parked])).toEqual([['a', 1, false]]);
    // Another transaction's timing, not the item's: never counted.
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    await sql`delete from due_items where id = 'a'`.execute(db);
    await run(new Set(['b']), parked, { after: 1, error: () => deadlock });
    expect((await failures()).map((f) => f.item)).toEqual(['a']);
    expect(parked).toEqual([]);
  });

  it('lists the parked items by pages, and a retry unparks one with its failures forgotten', async () => {
    await sql`insert into due_items values ('a', 1), ('b', 2), ('c', 3)`.execute(db);
    const bad = new Set(['a', 'b', 'c']);
    await run(bad, [], { after: 1 });
    const first = await listParkedItems(db, { job: 'test-job', limit: 2 });
    expect(first.map((p) => p.item)).toEqual(['a', 'b']);
    const rest = await listParkedItems(db, { limit: 2, after: { job: 'test-job', item: 'b' } });
    expect(rest.map((p) => p.item)).toEqual(['c']);
    expect(await listParkedItems(db, { job: 'another-job', limit: 10 })).toEqual([]);

    expect(await retryParkedItem(db, 'test-job', 'b')).toMatchObject({ item: 'b', failures: 1 });
    bad.delete('b');
    expect(await run(bad, [], { after: 1 })).toEqual(['b']);
    await expect(retryParkedItem(db, 'test-job', 'b')).rejects.toMatchObject({
      code: 'PARKED_ITEM_NOT_FOUND',
    });
    expect((await failures()).map((f) => f.item)).toEqual(['a', 'c']);
  });
  it('parks an item at once with its reason; the job leaves it out until an operator retries it', async () => {
    await sql`insert into due_items values ('a', 1), ('b', 2)`.execute(db);
    await parkItem(db, 'test-job', 'a', 'sent, but the provider cannot say what became of it');
    await parkItem(db, 'test-job', 'a', 'asked again: still unknown');
    const [item] = await listParkedItems(db, { job: 'test-job', limit: 10 });
    expect(item).toMatchObject({ item: 'a', failures: 2, error: 'asked again: still unknown' });
    expect(item!.parked_at).not.toBeNull();
    expect(await run(new Set(), [])).toEqual(['b']);
    await retryParkedItem(db, 'test-job', 'a');
    expect(await run(new Set(), [])).toEqual(['a', 'b']);
  });

  it('says whether an item is parked, not merely failing, and locks its row when asked', async () => {
    await recordFailure(db, 'test-job', 'a', new Error('once'), 3);
    await parkItem(db, 'test-job', 'b', 'waits for an operator');
    expect(await isParked(db, 'test-job', 'a')).toBe(false);
    expect(await isParked(db, 'test-job', 'b')).toBe(true);
    expect(await isParked(db, 'other-job', 'b')).toBe(false);

    // Locked: an operator's retry of the same item waits until the transaction ends.
    let retried = false;
    await db.transaction().execute(async (trx) => {
      expect(await isParked(trx, 'test-job', 'b', { lock: true })).toBe(true);
      const retry = retryParkedItem(db, 'test-job', 'b').then(() => (retried = true));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(retried).toBe(false);
      void retry.catch(() => undefined);
    });
    await expect.poll(() => retried).toBe(true);
    expect(await isParked(db, 'test-job', 'b')).toBe(false);
  });
});
