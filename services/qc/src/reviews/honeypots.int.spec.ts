import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Judge, startTestQc, type TestQc } from '../testing/harness.ts';

let t: TestQc;
let admin: string;

beforeAll(async () => {
  // Every lease is a honeypot turn when one is available; one wrong honeypot removes a judge.
  t = await startTestQc({ QC_HONEYPOT_EVERY: 1, QC_PRUNE_MIN_HONEYPOTS: 1 });
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});

afterAll(async () => {
  await t?.stop();
});

const lease = (judge: Judge) => t.inject({ url: '/api/v1/reviews/next', token: judge.token });
const vote = (judge: Judge, reviewId: string, verdict: string) =>
  t.inject({
    method: 'POST',
    url: `/api/v1/reviews/${reviewId}`,
    token: judge.token,
    body: { verdict, quality_score: 0.5, reasons: verdict === 'approve' ? [] : ['UNCLEAR'] },
  });
const mark = (caseId: string, verdict: 'approve' | 'reject' | null) =>
  t.inject({
    method: 'POST',
    url: `/api/v1/admin/reviews/${caseId}/honeypot`,
    token: admin,
    body: { verdict },
  });
const recordOf = (judge: Judge) =>
  t.service.db
    .selectFrom('judges')
    .select(['honeypot_correct', 'honeypot_answered', 'removed_at'])
    .where('user_id', '=', judge.id)
    .executeTakeFirstOrThrow();

/** A settled case (known to be bad work) that an admin marked as a honeypot. */
async function honeypot(): Promise<string> {
  const task = await t.fixtures.task('text');
  const settled = await t.fixtures.submission(task);
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
  expect((await mark(found.id, 'reject')).status).toBe(200);
  return found.id;
}

describe('honeypots', () => {
  it('score a judge against the known verdict; a wrong one past the minimum removes the judge', async () => {
    const caseId = await honeypot();
    const judge = await t.fixtures.judge();
    const leased = await lease(judge);
    expect(leased.status).toBe(200);
    expect((await vote(judge, leased.body.review.id as string, 'approve')).status).toBe(200);
    expect(await recordOf(judge)).toMatchObject({ honeypot_answered: 1, honeypot_correct: 0 });
    expect((await recordOf(judge)).removed_at).not.toBeNull();
    expect(await t.written('qc.judge.removed.v1', 'judge_id', judge.id)).toHaveLength(1);
    await mark(caseId, null);
  });

  it('do not score a review whose case stopped being a honeypot while it was leased', async () => {
    const caseId = await honeypot();
    const judge = await t.fixtures.judge();
    const leased = await lease(judge);
    expect(leased.status).toBe(200);
    // The admin withdraws the honeypot (its verdict was doubtful) while the judge holds it.
    expect((await mark(caseId, null)).status).toBe(200);
    expect((await vote(judge, leased.body.review.id as string, 'approve')).status).toBe(200);
    // There is no known verdict to be wrong against: nothing is scored, and the judge keeps judging.
    expect(await recordOf(judge)).toMatchObject({
      honeypot_answered: 0,
      honeypot_correct: 0,
      removed_at: null,
    });
    expect(await t.written('qc.judge.removed.v1', 'judge_id', judge.id)).toHaveLength(0);
    const next = await lease(judge);
    expect([next.status, next.body.code]).toEqual([404, 'NO_REVIEW_AVAILABLE']);
  });
});
