import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { qcWorkers } from '../service.ts';
import { type Judge, startTestQc, type TestQc } from '../testing/harness.ts';

let t: TestQc;
let admin: string;
let now = new Date();
const clock = () => now;
/** The draws honeypot turns are taken from, one per new lease, scripted by each test. */
const draws: number[] = [];
const random = () => {
  const draw = draws.shift();
  if (draw === undefined) throw new Error('no draw scripted for this lease');
  return draw;
};

beforeAll(async () => {
  // A honeypot turn is a draw below 1/4. Real work is the oldest open case (no pick drawn among
  // several: every scripted draw is a honeypot turn's).
  t = await startTestQc(
    { QC_HONEYPOT_EVERY: 4, QC_LEASE_AMONG_OLDEST: 1 },
    { clock, random, workers: { [qcWorkers.leaseExpiry]: false } },
  );
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});

afterAll(async () => {
  await t?.stop();
});

beforeEach(async () => {
  // Each test's own cases: nothing else open, no honeypot left from another test.
  draws.length = 0;
  await t.service.db.updateTable('cases').set({ status: 'decided' }).where('status', '=', 'open').execute();
  await t.service.db.updateTable('cases').set({ honeypot_verdict: null }).execute();
});

/** A lease a second after the last one, so that "the latest honeypot lease" is never a tie. */
async function lease(judge: Judge) {
  now = new Date(now.getTime() + 1_000);
  const response = await t.inject({ url: '/api/v1/reviews/next', token: judge.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return {
    id: response.body.review.id as string,
    submissionId: response.body.review.submission_id as string,
  };
}

const answer = (judge: Judge, reviewId: string, verdict: 'approve' | 'reject') =>
  t.inject({
    method: 'POST',
    url: `/api/v1/reviews/${reviewId}`,
    token: judge.token,
    body: { verdict, quality_score: 0.5, reasons: verdict === 'approve' ? [] : ['UNCLEAR'] },
  });

/** Settled cases, known to be bad work, that an admin marked as honeypots: their submission ids. */
async function honeypots(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const settled = await t.fixtures.submission(await t.fixtures.task('text'));
    const found = await t.service.db
      .selectFrom('cases')
      .select('id')
      .where('submission_id', '=', settled.submissionId)
      .executeTakeFirstOrThrow();
    await t.service.db
      .updateTable('cases')
      .set({ status: 'decided', verdict: 'reject', method: 'consensus' })
      .where('id', '=', found.id)
      .execute();
    const marked = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${found.id}/honeypot`,
      token: admin,
      body: { verdict: 'reject' },
    });
    expect(marked.status).toBe(200);
    ids.push(settled.submissionId);
  }
  return ids;
}

/** Open real work, oldest first. */
async function realWork(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    now = new Date(now.getTime() + 1_000);
    ids.push((await t.fixtures.submission(await t.fixtures.task('text'))).submissionId);
  }
  return ids;
}

describe('honeypot turns', () => {
  it('are drawn at random for each lease, not counted: the schedule follows the draws', async () => {
    const traps = await honeypots(3);
    const work = await realWork(3);
    const judge = await t.fixtures.judge();
    // Below 1/4 is a turn: honeypot, honeypot, real, real (0.25 is not below), honeypot, real. No
    // fixed period of leases gives this.
    draws.push(0.1, 0.2, 0.9, 0.25, 0.249, 0.5);
    const served: string[] = [];
    for (let i = 0; i < 6; i++) {
      const leased = await lease(judge);
      const isTrap = traps.includes(leased.submissionId);
      served.push(isTrap ? 'honeypot' : 'real');
      expect(isTrap || work.includes(leased.submissionId)).toBe(true);
      expect((await answer(judge, leased.id, 'reject')).status).toBe(200);
    }
    expect(served).toEqual(['honeypot', 'honeypot', 'real', 'real', 'honeypot', 'real']);
    expect(draws).toEqual([]);
  });

  it('do not let a judge skip a honeypot by releasing it or letting it run out: the next lease is a honeypot', async () => {
    const traps = await honeypots(4);
    const work = await realWork(2);
    const judge = await t.fixtures.judge();

    // A honeypot, given back.
    draws.push(0);
    const first = await lease(judge);
    expect(traps).toContain(first.submissionId);
    const released = await t.inject({
      method: 'POST',
      url: `/api/v1/reviews/${first.id}/release`,
      token: judge.token,
    });
    expect(released.status).toBe(200);
    // However the draw falls, the next lease is a honeypot again (another: a case is leased once).
    draws.push(0.99);
    const second = await lease(judge);
    expect(traps).toContain(second.submissionId);
    expect(second.submissionId).not.toBe(first.submissionId);
    expect((await answer(judge, second.id, 'reject')).status).toBe(200);
    // Answered: the draw decides again.
    draws.push(0.99);
    expect(work).toContain((await lease(judge)).submissionId);

    // A honeypot left to run out is owed alike.
    const [, lastWork] = work;
    const current = await t.service.db
      .selectFrom('reviews')
      .select('id')
      .where('judge_id', '=', judge.id)
      .where('status', '=', 'leased')
      .executeTakeFirstOrThrow();
    expect((await answer(judge, current.id, 'reject')).status).toBe(200);
    draws.push(0);
    const third = await lease(judge);
    expect(traps).toContain(third.submissionId);
    now = new Date(now.getTime() + (t.config.QC_LEASE_MINUTES + 1) * 60_000);
    draws.push(0.99);
    const fourth = await lease(judge);
    expect(traps).toContain(fourth.submissionId);
    expect((await answer(judge, fourth.id, 'reject')).status).toBe(200);
    draws.push(0.99);
    expect((await lease(judge)).submissionId).toBe(lastWork);
    expect(draws).toEqual([]);
  });
});
