import { randomUUID } from 'node:crypto';
import { gotLock } from '@tessera/service-kit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQc, type TestQc } from '../testing/harness.ts';
import { lockJudgesOf } from './repository.ts';

let t: TestQc;

beforeAll(async () => {
  t = await startTestQc();
});

afterAll(async () => {
  await t?.stop();
});

describe('lock order: judges by id', () => {
  it("the read model's lockFirst locks every judge a batch names, and no other", async () => {
    const [first, second, other] = [
      await t.fixtures.judge(),
      await t.fixtures.judge(),
      await t.fixtures.judge(),
    ];
    const events = [
      { data: { user_id: second.id.toUpperCase(), level: 3 } },
      { data: { user_id: first.id, trust_score: 4.2 } },
      { data: { user_id: randomUUID() } },
      { data: { user_id: 'not-a-uuid' } },
    ];
    const lockable = (id: string) =>
      gotLock(() =>
        sql`select user_id from judges where user_id = ${id} for update nowait`.execute(t.service.db),
      );

    const seen = await t.service.db.transaction().execute(async (trx) => {
      await lockJudgesOf(trx, events);
      return Promise.all([first, second, other].map((judge) => lockable(judge.id)));
    });

    expect(seen).toEqual([false, false, true]);
  });
});
