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

describe('a removed judge', () => {
  it('cannot submit a lease taken before the removal: it is ended, neither counts nor earns, and the case is back in the pool', async () => {
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const markHoneypot = (caseId: string, verdict: 'reject' | null) =>
      t.inject({
        method: 'POST',
        url: `/api/v1/admin/reviews/${caseId}/honeypot`,
        token: admin,
        body: { verdict },
      });
    // This test's cases only: nothing else open, no honeypot yet.
    await t.service.db.updateTable('cases').set({ status: 'decided' }).where('status', '=', 'open').execute();
    await t.service.db.updateTable('cases').set({ honeypot_verdict: null }).execute();
    const task = await t.fixtures.task('text');
    const [judge, other] = [await t.fixtures.judge(), await t.fixtures.judge()];
    // One wrong honeypot already (the next wrong one removes the judge), and agreement enough with
    // settled verdicts that their vote alone would decide a case (q = 43/46 after the honeypot).
    await t.service.db
      .updateTable('judges')
      .set({ honeypot_answered: 1, honeypot_correct: 0, answered: 41, correct: 40 })
      .where('user_id', '=', judge.id)
      .execute();

    // L1: real work, which the judge's vote alone would decide (and pay).
    const real = await t.fixtures.submission(task, { judges_required: 1, max_judges: 1 });
    const l1 = await lease(judge);
    expect(l1.status, JSON.stringify(l1.body)).toBe(200);
    expect(l1.body.review.submission_id).toBe(real.submissionId);

    // H: a honeypot leased alongside, as parallel lease requests could leave a judge (or a lease
    // taken before one-at-a-time held).
    const settled = await t.fixtures.submission(task);
    const honeypotCase = await caseOf(settled.submissionId);
    await t.service.db
      .updateTable('cases')
      .set({ status: 'decided', verdict: 'reject', method: 'consensus' })
      .where('id', '=', honeypotCase.id)
      .execute();
    expect((await markHoneypot(honeypotCase.id, 'reject')).status).toBe(200);
    const h = randomUUID();
    await t.service.db
      .insertInto('reviews')
      .values({
        id: h,
        case_id: honeypotCase.id,
        judge_id: judge.id,
        kind: 'honeypot',
        status: 'leased',
        leased_at: new Date(),
        lease_expires_at: new Date(Date.now() + 600_000),
      })
      .execute();

    // Wrong on the honeypot: removed.
    expect((await vote(judge, h, 'approve')).status).toBe(200);
    expect(await t.written('qc.judge.removed.v1', 'judge_id', judge.id)).toHaveLength(1);

    // L1 is refused, ended with the judging, and nothing of it counts or earns.
    const refused = await vote(judge, l1.body.review.id as string, 'approve');
    expect([refused.status, refused.body.code]).toEqual([403, 'NOT_A_JUDGE']);
    const l1Row = await t.service.db
      .selectFrom('reviews')
      .select(['status', 'counted_at', 'fee_amount'])
      .where('id', '=', l1.body.review.id as string)
      .executeTakeFirstOrThrow();
    expect(l1Row).toEqual({ status: 'expired', counted_at: null, fee_amount: null });
    expect(await caseOf(real.submissionId)).toMatchObject({ status: 'open', verdict: null });
    expect(await t.written('qc.review.fee-earned.v1', 'review_id', l1.body.review.id as string)).toHaveLength(
      0,
    );
    expect(
      await t.written('qc.submission.verdict-reached.v1', 'submission_id', real.submissionId),
    ).toHaveLength(0);

    // Its one vote is free again at once: another judge gets the case.
    expect((await markHoneypot(honeypotCase.id, null)).status).toBe(200);
    const next = await lease(other);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.review.submission_id).toBe(real.submissionId);
  });
});

describe('a restored judge', () => {
  it('starts their honeypot record afresh: one miss after the restoration does not remove them again; history is kept', async () => {
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    // This test's cases only: nothing else open, no honeypot yet.
    await t.service.db.updateTable('cases').set({ status: 'decided' }).where('status', '=', 'open').execute();
    await t.service.db.updateTable('cases').set({ honeypot_verdict: null }).execute();
    const task = await t.fixtures.task('text');
    for (let i = 0; i < 3; i++) {
      const settled = await t.fixtures.submission(task);
      const found = await caseOf(settled.submissionId);
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
    }
    const judge = await t.fixtures.judge();
    // One wrong honeypot already: the next wrong one (2 of 2 wrong) removes the judge.
    await t.service.db
      .updateTable('judges')
      .set({ honeypot_answered: 1, honeypot_correct: 0, answered: 1, correct: 0 })
      .where('user_id', '=', judge.id)
      .execute();
    const missHoneypot = async () => {
      const leased = await lease(judge);
      expect(leased.status, JSON.stringify(leased.body)).toBe(200);
      expect((await vote(judge, leased.body.review.id as string, 'approve')).status).toBe(200);
    };
    const record = () =>
      t.service.db
        .selectFrom('judges')
        .select(['honeypot_answered', 'honeypot_correct', 'removed_at', 'restored_at'])
        .where('user_id', '=', judge.id)
        .executeTakeFirstOrThrow();

    await missHoneypot();
    expect(await t.written('qc.judge.removed.v1', 'judge_id', judge.id)).toHaveLength(1);
    expect((await record()).removed_at).not.toBeNull();

    // An admin restores them (an appointment).
    const restored = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/judges',
      token: admin,
      body: { user_id: judge.id },
    });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(await record()).toMatchObject({ removed_at: null, restored_at: expect.any(Date) });

    // One miss since the restoration is fewer than QC_PRUNE_MIN_HONEYPOTS (2): they keep judging.
    await missHoneypot();
    expect(await record()).toMatchObject({ honeypot_answered: 3, honeypot_correct: 0, removed_at: null });
    expect(await t.written('qc.judge.removed.v1', 'judge_id', judge.id)).toHaveLength(1);
    const stats = await t.inject({ url: '/api/v1/reviews/me/stats', token: judge.token });
    expect(stats.body.stats).toMatchObject({ removed: false });

    // Two misses since the restoration: removed again, on those two alone.
    await missHoneypot();
    const removals = await t.written('qc.judge.removed.v1', 'judge_id', judge.id);
    expect(removals).toHaveLength(2);
    expect(removals[1]!.data).toMatchObject({ honeypot_accuracy: 0, honeypots: 2 });
    expect((await record()).removed_at).not.toBeNull();
  });
});
