import { randomUUID } from 'node:crypto';
import { gotLock } from '@tessera/service-kit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQc, type TestQc } from '../testing/harness.ts';
import { JUDGE_LOCK_PREFIX, lockJudgesOf } from './repository.ts';

let t: TestQc;

beforeAll(async () => {
  t = await startTestQc();
});

afterAll(async () => {
  await t?.stop();
});

describe('lock order: judges by id', () => {
  it("the read model's lockFirst locks every judge a batch names, and no other, new judges included", async () => {
    const [first, second, other] = [
      await t.fixtures.judge(),
      await t.fixtures.judge(),
      await t.fixtures.judge(),
    ];
    const newcomer = randomUUID();
    const events = [
      { data: { user_id: second.id.toUpperCase(), level: 3 } },
      { data: { user_id: first.id, trust_score: 4.2 } },
      { data: { user_id: newcomer.toUpperCase() } },
      { data: { user_id: 'not-a-uuid' } },
    ];
    const lockable = (id: string) =>
      gotLock(() =>
        sql`select user_id from judges where user_id = ${id} for update nowait`.execute(t.service.db),
      );
    // Another session, as another batch would ask for it.
    const advisoryFree = async (id: string) =>
      t.service.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ got: boolean }>`
          select pg_try_advisory_xact_lock(hashtextextended(${JUDGE_LOCK_PREFIX + id}, 0)) as got`.execute(
          trx,
        );
        return rows[0]!.got;
      });

    const seen = await t.service.db.transaction().execute(async (trx) => {
      await lockJudgesOf(trx, events);
      return {
        rows: await Promise.all([first, second, other].map((judge) => lockable(judge.id))),
        advisory: await Promise.all([first.id, second.id, newcomer, other.id].map(advisoryFree)),
      };
    });

    expect(seen.rows).toEqual([false, false, true]);
    // The newcomer has no row to lock, but no other batch can insert them meanwhile.
    expect(seen.advisory).toEqual([false, false, false, true]);
  });
});
