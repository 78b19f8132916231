import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payDueHoneypotFees } from '../reviews/honeypot-fees.ts';
import { qcWorkers } from '../service.ts';
import { type Judge, type SubmissionFixture, startTestQc, type TestQc } from '../testing/harness.ts';

let t: TestQc;
let now = new Date('2030-05-10T09:00:00.000Z');
const clock = () => now;
const nextDay = () => {
  now = new Date(now.getTime() + 86_400_000);
};

beforeAll(async () => {
  // Every lease is a honeypot turn when one is available.
  t = await startTestQc({ QC_HONEYPOT_EVERY: 1 }, { clock, workers: { [qcWorkers.leaseExpiry]: false } });
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
    body: { verdict, quality_score: 0.8, reasons: verdict === 'approve' ? [] : ['UNCLEAR'] },
  });
const statsOf = async (judge: Judge) => {
  const response = await t.inject({ url: '/api/v1/reviews/me/stats', token: judge.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.stats as Record<string, unknown>;
};

async function judgeWith(judge: Judge, submission: SubmissionFixture, verdict: string) {
  const leased = await lease(judge);
  expect(leased.status, JSON.stringify(leased.body)).toBe(200);
  expect(leased.body.review.submission_id).toBe(submission.submissionId);
  expect((await vote(judge, leased.body.review.id as string, verdict)).status).toBe(200);
}

/** Bad work, decided `reject` now, and how an admin marks it a honeypot (null: stops it being one). */
async function badWorkDecided(task: Awaited<ReturnType<TestQc['fixtures']['task']>>) {
  const settled = await t.fixtures.submission(task);
  const honeypotCase = await t.service.db
    .selectFrom('cases')
    .select('id')
    .where('submission_id', '=', settled.submissionId)
    .executeTakeFirstOrThrow();
  await t.service.db
    .updateTable('cases')
    .set({ status: 'decided', verdict: 'reject', method: 'consensus', decided_at: now })
    .where('id', '=', honeypotCase.id)
    .execute();
  const admin = await t.token({ sub: randomUUID(), role: 'admin' });
  const mark = (verdict: 'reject' | null) =>
    t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${honeypotCase.id}/honeypot`,
      token: admin,
      body: { verdict },
    });
  return { settled, mark };
}

/** Bad work marked a honeypot, leased by the judge as their next review and approved (wrong). */
async function honeypotAnsweredWrong(judge: Judge, task: Awaited<ReturnType<TestQc['fixtures']['task']>>) {
  const { settled, mark } = await badWorkDecided(task);
  expect((await mark('reject')).status).toBe(200);
  const leased = await lease(judge);
  expect(leased.body.review.submission_id).toBe(settled.submissionId);
  const reviewId = leased.body.review.id as string;
  expect((await vote(judge, reviewId, 'approve')).status).toBe(200);
  return { mark, reviewId };
}

/** A judge's stats the day after one real review of theirs counted, agreeing (fee 10 USD). */
const oneRealReviewCounted = {
  accuracy: 4 / 5,
  reviews_submitted: 1,
  reviews_counted: 1,
  agreement: 1,
  removed: false,
  earnings: [{ amount: 10, currency: 'USD' }],
};

describe("GET /api/v1/reviews/me/stats: as of the current day's start (UTC)", () => {
  it('does not move when a honeypot is answered wrong, nor when a real review settles, until the next day', async () => {
    const task = await t.fixtures.task('text');
    const judge = await t.fixtures.judge();
    const [o1, o2, o3, o4] = [
      await t.fixtures.judge(),
      await t.fixtures.judge(),
      await t.fixtures.judge(),
      await t.fixtures.judge(),
    ];

    // Day 1: a real case, decided approve with the judge's vote (no honeypot exists yet).
    const first = await t.fixtures.submission(task);
    await judgeWith(judge, first, 'approve');
    await judgeWith(o1, first, 'approve');
    await judgeWith(o2, first, 'approve');
    const prior = {
      accuracy: 0.75,
      reviews_submitted: 0,
      reviews_counted: 0,
      agreement: null,
      removed: false,
      earnings: [],
    };
    // Settled today: not shown today.
    expect(await statsOf(judge)).toEqual(prior);

    nextDay();
    const dayTwo = oneRealReviewCounted;
    expect(await statsOf(judge)).toEqual(dayTwo);

    // Day 2: a honeypot known to be bad work, which the judge approves (wrong).
    const { mark } = await honeypotAnsweredWrong(judge, task);
    // Scored at once (the removal rule reads it at once)...
    expect(
      await t.service.db
        .selectFrom('judges')
        .select(['honeypot_answered', 'honeypot_correct', 'answered'])
        .where('user_id', '=', judge.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ honeypot_answered: 1, honeypot_correct: 0, answered: 2 });
    // ...but the judge's stats do not move: nothing tells them that review was a honeypot.
    expect(await statsOf(judge)).toEqual(dayTwo);
    expect((await mark(null)).status).toBe(200);
    // Counted and paid today as well (the real settlements sampled here all took no time: the clock
    // stands still), as the honeypot-fees worker does.
    expect(await payDueHoneypotFees(t.service.db, now)).toBe(1);
    expect(await statsOf(judge)).toEqual(dayTwo);

    // Day 2 still: a real case settled, the judge on the losing side. Not shown either.
    const second = await t.fixtures.submission(task);
    await judgeWith(judge, second, 'reject');
    await judgeWith(o3, second, 'approve');
    await judgeWith(o4, second, 'approve');
    await judgeWith(o1, second, 'approve');
    expect(
      await t.service.db
        .selectFrom('cases')
        .select(['status', 'verdict'])
        .where('submission_id', '=', second.submissionId)
        .executeTakeFirstOrThrow(),
    ).toEqual({ status: 'decided', verdict: 'approve' });
    expect(await statsOf(judge)).toEqual(dayTwo);

    // Day 3: the day's honeypot and real review show together, each counted and paid alike.
    nextDay();
    expect(await statsOf(judge)).toEqual({
      // (3 + 1) / (4 + 3): right on the first case, wrong on the honeypot and on the second case.
      accuracy: 4 / 7,
      reviews_submitted: 3,
      reviews_counted: 3,
      agreement: 1 / 3,
      removed: false,
      earnings: [{ amount: 30, currency: 'USD' }],
    });
  });

  it('shows a honeypot when it is counted and paid (as late as a real case settles), not when it is scored', async () => {
    const task = await t.fixtures.task('text');
    const judge = await t.fixtures.judge();
    const others = [await t.fixtures.judge(), await t.fixtures.judge()];

    // Day 1: a real case, decided approve with the judge's vote.
    const real = await t.fixtures.submission(task);
    await judgeWith(judge, real, 'approve');
    for (const other of others) await judgeWith(other, real, 'approve');
    nextDay();
    const counted = oneRealReviewCounted;
    expect(await statsOf(judge)).toEqual(counted);

    // Day 2: a honeypot answered wrong, scored at once; it falls due tomorrow, as a real case of the
    // moment might settle tomorrow.
    const { mark, reviewId } = await honeypotAnsweredWrong(judge, task);
    expect((await mark(null)).status).toBe(200);
    const dueAt = new Date(now.getTime() + 86_400_000);
    await t.service.db.updateTable('reviews').set({ fee_due_at: dueAt }).where('id', '=', reviewId).execute();
    expect(await payDueHoneypotFees(t.service.db, now)).toBe(0);

    // Day 3: scored yesterday, not counted yet. A real review moves the judge's accuracy only with
    // their counted reviews and earnings; a honeypot moving it alone would give itself away.
    nextDay();
    expect(await statsOf(judge)).toEqual({ ...counted, reviews_submitted: 2 });
    expect(await payDueHoneypotFees(t.service.db, dueAt)).toBe(1);
    expect(await statsOf(judge)).toEqual({ ...counted, reviews_submitted: 2 });

    // Day 4: counted yesterday, it shows, with its fee, as a real review counted yesterday would.
    nextDay();
    expect(await statsOf(judge)).toEqual({
      accuracy: 4 / 6,
      reviews_submitted: 2,
      reviews_counted: 2,
      agreement: 1 / 2,
      removed: false,
      earnings: [{ amount: 20, currency: 'USD' }],
    });
  });
});
