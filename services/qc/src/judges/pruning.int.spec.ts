import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Judge, type SubmissionFixture, startTestQc, type TestQc } from '../testing/harness.ts';

let t: TestQc;

beforeAll(async () => {
  // Every lease is a honeypot turn when one is available; two wrong honeypots remove a judge.
  t = await startTestQc({ QC_HONEYPOT_EVERY: 1, QC_PRUNE_MIN_HONEYPOTS: 2 });
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
    body: { verdict, quality_score: 0.7, reasons: [] },
  });

async function judgeWith(judge: Judge, submission: SubmissionFixture, verdict: string) {
  const leased = await lease(judge);
  expect(leased.status, JSON.stringify(leased.body)).toBe(200);
  expect(leased.body.review.submission_id).toBe(submission.submissionId);
  expect((await vote(judge, leased.body.review.id as string, verdict)).status).toBe(200);
}

const caseOf = (submissionId: string) =>
  t.service.db
    .selectFrom('cases')
    .selectAll()
    .where('submission_id', '=', submissionId)
    .executeTakeFirstOrThrow();

describe('honeypots and pruning', () => {
  it('removes a judge who fails honeypots and judges their recent verdicts again without them', async () => {
    const task = await t.fixtures.task('text');
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const [bad, g1, g2, g3] = [
      await t.fixtures.judge(),
      await t.fixtures.judge(),
      await t.fixtures.judge(),
      await t.fixtures.judge(),
    ];
    // The bad judge looked excellent until now; the others are mediocre.
    await t.service.db
      .updateTable('judges')
      .set({ correct: 40, answered: 40 })
      .where('user_id', '=', bad.id)
      .execute();
    await t.service.db
      .updateTable('judges')
      .set({ correct: 3, answered: 6 })
      .where('user_id', 'in', [g1.id, g2.id])
      .execute();

    // No honeypot exists yet: the leases are real work. The bad judge's vote carries the verdict.
    const decidedByBad = await t.fixtures.submission(task);
    await judgeWith(bad, decidedByBad, 'approve');
    await judgeWith(g1, decidedByBad, 'approve');
    await judgeWith(g2, decidedByBad, 'reject');
    expect(await caseOf(decidedByBad.submissionId)).toMatchObject({ status: 'decided', verdict: 'approve' });

    // Two settled cases become honeypots, known to be bad work.
    const honeypots: string[] = [];
    for (let i = 0; i < 2; i++) {
      const settled = await t.fixtures.submission(task);
      const found = await caseOf(settled.submissionId);
      await t.service.db
        .updateTable('cases')
        .set({ status: 'decided', verdict: 'reject' })
        .where('id', '=', found.id)
        .execute();
      const marked = await t.inject({
        method: 'POST',
        url: `/api/v1/admin/reviews/${found.id}/honeypot`,
        token: admin,
        body: { verdict: 'reject' },
      });
      expect(marked.status).toBe(200);
      honeypots.push(settled.submissionId);
    }
    const open = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${(await caseOf(decidedByBad.submissionId)).id}/honeypot`,
      token: admin,
      body: { verdict: 'approve' },
    });
    // A decided case may serve; undo it at once so only the two above are honeypots.
    expect(open.status).toBe(200);
    await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${(await caseOf(decidedByBad.submissionId)).id}/honeypot`,
      token: admin,
      body: { verdict: null },
    });

    // The bad judge approves both honeypots: wrong twice.
    for (let i = 0; i < 2; i++) {
      const leased = await lease(bad);
      expect(leased.status).toBe(200);
      expect(honeypots).toContain(leased.body.review.submission_id);
      expect(Object.keys(leased.body.review as object).sort()).toEqual(
        [
          'id',
          'lease_expires_at',
          'media',
          'revision',
          'status',
          'submission_id',
          'submission_url',
          'task',
          'task_type',
        ].sort(),
      );
      expect((await vote(bad, leased.body.review.id as string, 'approve')).status).toBe(200);
    }

    const [removed] = await t.written('qc.judge.removed.v1', 'judge_id', bad.id);
    expect(removed!.data).toMatchObject({ honeypot_accuracy: 0, honeypots: 2, rejudged: 1 });
    const refused = await lease(bad);
    expect([refused.status, refused.body.code]).toEqual([403, 'NOT_A_JUDGE']);

    // Without the bad vote, two votes are fewer than required: the case is back in the pool.
    expect(await caseOf(decidedByBad.submissionId)).toMatchObject({ status: 'open', votes_wanted: 3 });
    for (const submissionId of honeypots) {
      await t.inject({
        method: 'POST',
        url: `/api/v1/admin/reviews/${(await caseOf(submissionId)).id}/honeypot`,
        token: admin,
        body: { verdict: null },
      });
    }
    await judgeWith(g3, decidedByBad, 'reject');
    const stats = await t.inject({ url: '/api/v1/reviews/me/stats', token: bad.token });
    expect(stats.body.stats).toMatchObject({ removed: true });
    expect(stats.body.stats).not.toHaveProperty('honeypots');
  });
});
