import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockJudge } from '../judges/repository.ts';
import { qcWorkers } from '../service.ts';
import { startTestQc, type TestQc } from '../testing/harness.ts';
import { expireLeases } from './handle.ts';

let t: TestQc;

beforeAll(async () => {
  t = await startTestQc({}, { workers: { [qcWorkers.leaseExpiry]: false } });
});

afterAll(async () => {
  await t?.stop();
});

/** A lease of `judgeId` on a fresh case that ran out a minute ago and is not marked yet. */
async function runOutLease(judgeId: string): Promise<string> {
  const submission = await t.fixtures.submission(await t.fixtures.task('text'));
  const found = await t.service.db
    .selectFrom('cases')
    .select('id')
    .where('submission_id', '=', submission.submissionId)
    .executeTakeFirstOrThrow();
  const id = randomUUID();
  await t.service.db
    .insertInto('reviews')
    .values({
      id,
      case_id: found.id,
      judge_id: judgeId,
      kind: 'consensus',
      status: 'leased',
      leased_at: new Date(Date.now() - 11 * 60_000),
      lease_expires_at: new Date(Date.now() - 60_000),
    })
    .execute();
  return id;
}

const statusOf = async (id: string) =>
  (await t.service.db.selectFrom('reviews').select('status').where('id', '=', id).executeTakeFirstOrThrow())
    .status;

describe('lease expiry: lock order', () => {
  it("takes each judge's lock before their lease rows, as pruning does: a judge busy with their leases is left to the next run, the others expire", async () => {
    const [busy, other] = [await t.fixtures.judge(), await t.fixtures.judge()];
    const busyLeases = [await runOutLease(busy.id), await runOutLease(busy.id)];
    const otherLease = await runOutLease(other.id);

    // The busy judge's lock is held, as while their honeypot is submitted and they are pruned
    // (reviews/handle.ts submitReview: lockJudge first, then the review rows, then pruning ends the
    // judge's leases).
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const pruning = t.service.db.transaction().execute(async (trx) => {
      await lockJudge(trx, busy.id);
      holding();
      await released;
    });
    await held;
    try {
      // No row of the busy judge's is touched (nor waited for) while their lock is held.
      expect(await expireLeases(t.service.db, new Date())).toBe(1);
      expect(await statusOf(otherLease)).toBe('expired');
      expect(await Promise.all(busyLeases.map(statusOf))).toEqual(['leased', 'leased']);
    } finally {
      release();
      await pruning;
    }
    // The next run, the judge no longer busy: theirs expire.
    expect(await expireLeases(t.service.db, new Date())).toBe(2);
    expect(await Promise.all(busyLeases.map(statusOf))).toEqual(['expired', 'expired']);
  });
});
