import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/index.ts';
import { gotLock } from '../testing/locks.ts';
import { lockName, lockNames, tryLockName } from './advisory-locks.ts';
import { createDatabase } from './database.ts';

let database: { url: string; drop(): Promise<void> };
let db: Kysely<unknown>;

beforeAll(async () => {
  database = await createTestDatabase('advisory_locks');
  db = createDatabase<unknown>(database.url, { max: 8 });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** Holds the transaction open (its locks with it) until `release` resolves. */
function holding(lock: (trx: Kysely<unknown>) => Promise<void>) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const taken = new Promise<void>((resolve) => (locked = resolve));
  const done = db.transaction().execute(async (trx) => {
    await lock(trx);
    locked();
    await released;
  });
  return { taken, release, done };
}

/** Whether `name`'s lock is free now: a transaction that may not wait asks for it. */
async function isFree(name: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await sql`set local lock_timeout = '50ms'`.execute(trx);
    return gotLock(() => lockName(trx, name));
  });
}

describe('advisory locks by name', () => {
  it('holds a named lock until the transaction ends, and only that name', async () => {
    const holder = holding((trx) => lockName(trx, 'judge:a'));
    await holder.taken;
    expect(await isFree('judge:a')).toBe(false);
    expect(await isFree('judge:b')).toBe(true);
    holder.release();
    await holder.done;
    expect(await isFree('judge:a')).toBe(true);
  });

  it('answers at once whether it got a lock, never waiting for one held elsewhere', async () => {
    const holder = holding((trx) => lockName(trx, 'judge:c'));
    await holder.taken;
    expect(await db.transaction().execute((trx) => tryLockName(trx, 'judge:c'))).toBe(false);
    expect(await db.transaction().execute((trx) => tryLockName(trx, 'judge:d'))).toBe(true);
    holder.release();
    await holder.done;
    expect(await db.transaction().execute((trx) => tryLockName(trx, 'judge:c'))).toBe(true);
  });

  it('takes every name of a set, each once however often it is named, and nothing for none', async () => {
    await db.transaction().execute((trx) => lockNames(trx, []));
    const holder = holding((trx) => lockNames(trx, ['task:x', 'task:y', 'task:x']));
    await holder.taken;
    expect(await isFree('task:x')).toBe(false);
    expect(await isFree('task:y')).toBe(false);
    expect(await isFree('task:z')).toBe(true);
    holder.release();
    await holder.done;
    expect(await isFree('task:y')).toBe(true);
  });

  it('never deadlocks two transactions locking the same names listed in opposite orders', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `campaign:${i}`);
    const reversed = [...names].reverse();
    // Row-by-row locking in list order would deadlock some of these pairs; sorted keys cannot.
    for (let round = 0; round < 20; round += 1) {
      await Promise.all([
        db.transaction().execute((trx) => lockNames(trx, names)),
        db.transaction().execute((trx) => lockNames(trx, reversed)),
      ]);
    }
    expect(await isFree('campaign:0')).toBe(true);
  });
});
