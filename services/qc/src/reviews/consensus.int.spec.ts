import { randomUUID } from 'node:crypto';
import { foreignEvent } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { qcWorkers } from '../service.ts';
import { type Judge, type SubmissionFixture, startTestQc, type TestQc } from '../testing/harness.ts';

let t: TestQc;
let now = new Date();
const clock = () => now;

beforeAll(async () => {
  t = await startTestQc({}, { clock, workers: { [qcWorkers.leaseExpiry]: false } });
});

afterAll(async () => {
  await t?.stop();
});

const lease = (judge: Judge, type?: string) =>
  t.inject({ url: `/api/v1/reviews/next${type ? `?type=${type}` : ''}`, token: judge.token });

async function leaseFor(judge: Judge, submission: SubmissionFixture): Promise<string> {
  const response = await lease(judge);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body.review.submission_id).toBe(submission.submissionId);
  return response.body.review.id as string;
}

const vote = (judge: Judge, reviewId: string, verdict: string, extra: Record<string, unknown> = {}) =>
  t.inject({
    method: 'POST',
    url: `/api/v1/reviews/${reviewId}`,
    token: judge.token,
    body: { verdict, quality_score: 0.8, reasons: verdict === 'approve' ? [] : ['UNCLEAR'], ...extra },
  });

async function judgeWith(judge: Judge, submission: SubmissionFixture, verdict: string, extra = {}) {
  const reviewId = await leaseFor(judge, submission);
  const response = await vote(judge, reviewId, verdict, extra);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return reviewId;
}

const caseOf = (submissionId: string) =>
  t.service.db
    .selectFrom('cases')
    .selectAll()
    .where('submission_id', '=', submissionId)
    .executeTakeFirstOrThrow();

const setRecord = (judge: Judge, correct: number, answered: number) =>
  t.service.db.updateTable('judges').set({ correct, answered }).where('user_id', '=', judge.id).execute();

/** Each test judges its own campaign's cases: new judges, a fresh queue. */
async function freshCase(extra = {}) {
  // Settle whatever an earlier test left open, so the queue holds only this test's case.
  await t.service.db.updateTable('cases').set({ status: 'decided' }).where('status', '=', 'open').execute();
  const task = await t.fixtures.task('text');
  return t.fixtures.submission(task, extra);
}

describe('consensus', () => {
  it('three agreeing judges decide; the verdict is published once and each counted review earns its fee once', async () => {
    const submission = await freshCase();
    const judges = [await t.fixtures.judge(), await t.fixtures.judge(), await t.fixtures.judge()];
    const reviews = [];
    for (const judge of judges) reviews.push(await judgeWith(judge, submission, 'approve'));

    const verdicts = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.submissionId,
    );
    expect(verdicts.map((e) => e.data)).toEqual([
      expect.objectContaining({ verdict: 'approve', method: 'consensus', revision: 1, quality_score: 0.8 }),
    ]);
    expect(verdicts[0]!.data.confidence).toBeCloseTo(0.964, 3);
    const fees = await t.written('qc.review.fee-earned.v1', 'submission_id', submission.submissionId);
    expect(fees.map((e) => e.data.review_id).sort()).toEqual([...reviews].sort());
    expect(fees[0]!.data).toMatchObject({
      assignment_id: submission.assignmentId,
      campaign_id: submission.campaignId,
      fee: { amount: 10, currency: 'USD' },
    });
    const counted = await t.written('qc.review.counted.v1', 'submission_id', submission.submissionId);
    expect(counted.map((e) => e.data.review_id).sort()).toEqual([...reviews].sort());
    expect(counted.every((e) => e.data.agreed)).toBe(true);

    // The validated event again (a redelivery, or a replay under another message id): nothing new.
    const again = foreignEvent('submissions.submission.validated.v1', {
      submission_id: submission.submissionId,
      assignment_id: submission.assignmentId,
      task_id: submission.taskId,
      campaign_id: submission.campaignId,
      company_id: submission.companyId,
      contributor_id: submission.contributorId,
      task_type: 'text',
      revision: 1,
      judges_required: 3,
      is_golden: false,
      answer: null,
      media: [],
      submitted_at: new Date().toISOString(),
    });
    await t.deliver(consumerNames.submissions, again);
    expect(
      await t.written('qc.submission.verdict-reached.v1', 'submission_id', submission.submissionId),
    ).toHaveLength(1);
    expect(await t.written('qc.review.fee-earned.v1', 'submission_id', submission.submissionId)).toHaveLength(
      3,
    );
    expect(await t.written('qc.review.counted.v1', 'submission_id', submission.submissionId)).toHaveLength(3);
    await t.awaitPublished(
      'qc.submission.verdict-reached.v1',
      (e) => e.data.submission_id === submission.submissionId,
    );
    // The judges agreed with the verdict: their records say so.
    const records = await t.service.db
      .selectFrom('judges')
      .select(['correct', 'answered'])
      .where(
        'user_id',
        'in',
        judges.map((j) => j.id),
      )
      .execute();
    expect(records).toEqual([
      { correct: 1, answered: 1 },
      { correct: 1, answered: 1 },
      { correct: 1, answered: 1 },
    ]);
  });

  it('a split asks a fourth and a fifth judge, then escalates to the admin queue, where an admin decides', async () => {
    const submission = await freshCase();
    const judges = await Promise.all([1, 2, 3, 4, 5].map(() => t.fixtures.judge()));
    await judgeWith(judges[0]!, submission, 'approve');
    await judgeWith(judges[1]!, submission, 'approve');
    await judgeWith(judges[2]!, submission, 'reject');
    expect(await caseOf(submission.submissionId)).toMatchObject({ status: 'open', votes_wanted: 4 });
    await judgeWith(judges[3]!, submission, 'reject');
    expect(await caseOf(submission.submissionId)).toMatchObject({ status: 'open', votes_wanted: 5 });
    await judgeWith(judges[4]!, submission, 'approve');
    // 3–2 of new judges: 0.75, below 0.9, at max_judges.
    const escalated = await caseOf(submission.submissionId);
    expect(escalated.status).toBe('escalated');
    expect(
      await t.written('qc.submission.verdict-reached.v1', 'submission_id', submission.submissionId),
    ).toHaveLength(0);

    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const queue = await t.inject({ url: '/api/v1/admin/reviews?status=escalated', token: admin });
    const item = queue.body.items.find(
      (i: { submission_id: string }) => i.submission_id === submission.submissionId,
    );
    // The admin sees why: a split verdict, not a case nobody could judge.
    expect(item).toMatchObject({ id: escalated.id, kind: 'escalated', escalated_reason: 'NO_CONSENSUS' });
    const reasonsIn = async (reason: string): Promise<[string, string | null][]> => {
      const filtered = await t.inject({
        url: `/api/v1/admin/reviews?status=escalated&reason=${reason}&limit=100`,
        token: admin,
      });
      expect(filtered.status, JSON.stringify(filtered.body)).toBe(200);
      const items: { id: string; escalated_reason: string | null }[] = filtered.body.items;
      return items.map((i) => [i.id, i.escalated_reason]);
    };
    const splits = await reasonsIn('NO_CONSENSUS');
    expect(splits).toContainEqual([escalated.id, 'NO_CONSENSUS']);
    expect(new Set(splits.map(([, reason]) => reason))).toEqual(new Set(['NO_CONSENSUS']));
    expect((await reasonsIn('WAITED_TOO_LONG')).map(([id]) => id)).not.toContain(escalated.id);
    expect(item.votes.map((v: { verdict: string }) => v.verdict).sort()).toEqual([
      'approve',
      'approve',
      'approve',
      'reject',
      'reject',
    ]);
    const decided = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${escalated.id}/decision`,
      token: admin,
      body: {
        verdict: 'reject',
        reason: 'The text does not answer the prompt.',
        reason_codes: ['OFF_TOPIC'],
      },
    });
    expect(decided.status).toBe(200);
    const twice = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${escalated.id}/decision`,
      token: admin,
      body: { verdict: 'approve', reason: 'Changed my mind.' },
    });
    expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_DECIDED']);
    const [published] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.submissionId,
    );
    expect(published!.data).toMatchObject({
      verdict: 'reject',
      method: 'admin',
      confidence: 1,
      reason_codes: ['OFF_TOPIC'],
    });
    // All five reviews were counted (paid), and scored against the admin's verdict.
    expect(await t.written('qc.review.fee-earned.v1', 'submission_id', submission.submissionId)).toHaveLength(
      5,
    );
    const right = await t.service.db
      .selectFrom('judges')
      .select(['user_id', 'correct'])
      .where(
        'user_id',
        'in',
        judges.map((j) => j.id),
      )
      .execute();
    expect(
      right
        .filter((r) => r.correct === 1)
        .map((r) => r.user_id)
        .sort(),
    ).toEqual([judges[2]!.id, judges[3]!.id].sort());
  });

  it('one accurate judge outweighs two inaccurate ones', async () => {
    const submission = await freshCase();
    const [sharp, weak1, weak2] = [
      await t.fixtures.judge(),
      await t.fixtures.judge(),
      await t.fixtures.judge(),
    ];
    await setRecord(sharp, 400, 404); // q = 403/408 ≈ 0.988
    await setRecord(weak1, 12, 20); // q = 15/24 = 0.625
    await setRecord(weak2, 12, 20);
    await judgeWith(weak1, submission, 'reject');
    await judgeWith(weak2, submission, 'reject');
    await judgeWith(sharp, submission, 'approve');
    const [verdict] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.submissionId,
    );
    expect(verdict!.data.verdict).toBe('approve');
    expect(verdict!.data.confidence).toBeGreaterThan(0.9);
  });

  it('aggregates the judges’ answers, weighted, into the verdict', async () => {
    await t.service.db.updateTable('cases').set({ status: 'decided' }).where('status', '=', 'open').execute();
    const task = await t.fixtures.task('validation');
    const submission = await t.fixtures.submission(task, { answer: { option: 'yes' } });
    const judges = [await t.fixtures.judge(), await t.fixtures.judge(), await t.fixtures.judge()];
    const bad = await leaseFor(judges[0]!, submission);
    const refused = await vote(judges[0]!, bad, 'approve', { answer: { option: 'maybe' } });
    expect([refused.status, refused.body.code]).toEqual([422, 'INVALID_ANSWER']);
    await vote(judges[0]!, bad, 'approve', { answer: { option: 'yes' } });
    await judgeWith(judges[1]!, submission, 'approve', { answer: { option: 'yes' } });
    await judgeWith(judges[2]!, submission, 'approve', { answer: { option: 'yes' } });
    const [verdict] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.submissionId,
    );
    expect(verdict!.data.answer).toEqual({ option: 'yes' });
    expect(verdict!.data.answer_confidence).toBeCloseTo(0.964, 3);
  });
});

describe('leases', () => {
  it('gives the last open review of a submission to exactly one of two racing judges', async () => {
    for (let round = 0; round < 5; round++) {
      const submission = await freshCase({ judges_required: 1, max_judges: 1 });
      const [a, b] = [await t.fixtures.judge(), await t.fixtures.judge()];
      const answers = await Promise.all([lease(a), lease(b)]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 404]);
      const won = answers.find((r) => r.status === 200)!;
      expect(won.body.review.submission_id).toBe(submission.submissionId);
      expect(answers.find((r) => r.status === 404)!.body.code).toBe('NO_REVIEW_AVAILABLE');
    }
  });

  it('gives a judge one lease at a time, even to parallel requests', async () => {
    for (let round = 0; round < 5; round++) {
      // Two open cases: a second request that did not see the first's lease would take the other.
      await freshCase();
      await t.fixtures.submission(await t.fixtures.task('text'));
      const judge = await t.fixtures.judge();
      const answers = await Promise.all([lease(judge), lease(judge), lease(judge)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(new Set(answers.map((r) => r.body.review.id as string)).size).toBe(1);
      const held = await t.service.db
        .selectFrom('reviews')
        .select('id')
        .where('judge_id', '=', judge.id)
        .execute();
      expect(held).toHaveLength(1);
    }
  });

  it('puts an expired lease back in the pool; the late judge is refused', async () => {
    const submission = await freshCase({ judges_required: 1 });
    const [slow, quick] = [await t.fixtures.judge(), await t.fixtures.judge()];
    const slowReview = await leaseFor(slow, submission);
    expect((await lease(quick)).status).toBe(404);
    now = new Date(now.getTime() + (t.config.QC_LEASE_MINUTES + 1) * 60_000);
    const quickReview = await leaseFor(quick, submission);
    expect(quickReview).not.toBe(slowReview);
    const late = await vote(slow, slowReview, 'approve');
    expect([late.status, late.body.code]).toEqual([409, 'LEASE_EXPIRED']);
    expect((await vote(quick, quickReview, 'approve')).status).toBe(200);
    const [assigned] = await t.written('qc.review.assigned.v1', 'review_id', quickReview);
    expect(assigned!.data).toMatchObject({ submission_id: submission.submissionId, judge_id: quick.id });
  });

  it('returns a released review to the pool at once', async () => {
    const submission = await freshCase({ judges_required: 1 });
    const [first, second] = [await t.fixtures.judge(), await t.fixtures.judge()];
    const reviewId = await leaseFor(first, submission);
    const released = await t.inject({
      method: 'POST',
      url: `/api/v1/reviews/${reviewId}/release`,
      token: first.token,
    });
    expect(released.status).toBe(200);
    await leaseFor(second, submission);
    // The first judge may not take the same submission again.
    expect((await lease(first)).status).toBe(404);
  });
});

describe('who may judge', () => {
  it('never the company of the campaign, nor the author; a low-standing contributor only once appointed', async () => {
    const submission = await freshCase();
    const member = await t.fixtures.judge();
    await t.fixtures.member(submission.companyId, member.id);
    expect((await lease(member)).body.code).toBe('NO_REVIEW_AVAILABLE');
    const author = {
      id: submission.contributorId,
      token: await t.token({ sub: submission.contributorId, role: 'contributor' }),
    };
    await t.deliver(
      consumerNames.engagement,
      foreignEvent('engagement.contributor.level-changed.v1', { user_id: author.id, level: 9 }),
    );
    await t.deliver(
      consumerNames.engagement,
      foreignEvent('engagement.contributor.trust-changed.v1', { user_id: author.id, trust_score: 9 }),
    );
    expect((await lease(author)).body.code).toBe('NO_REVIEW_AVAILABLE');

    const newcomer = { id: randomUUID(), token: '' };
    newcomer.token = await t.token({ sub: newcomer.id, role: 'contributor' });
    const refused = await lease(newcomer);
    expect([refused.status, refused.body.code]).toEqual([403, 'NOT_A_JUDGE']);
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const appointed = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/judges',
      token: admin,
      body: { user_id: newcomer.id },
    });
    expect(appointed.status).toBe(200);
    await leaseFor(newcomer, submission);
    const company = await t.token({ sub: randomUUID(), role: 'company' });
    expect((await lease({ id: '', token: company })).body.code).toBe('NOT_A_JUDGE');
  });

  it('refuses the review of a judge suspended while holding its lease: it neither counts nor earns', async () => {
    const submission = await freshCase({ judges_required: 1, max_judges: 1 });
    const judge = await t.fixtures.judge();
    const reviewId = await leaseFor(judge, submission);
    await t.deliver(
      consumerNames.identity,
      foreignEvent('identity.user.suspended.v1', { user_id: judge.id, reason_code: 'FRAUD' }),
    );
    const refused = await vote(judge, reviewId, 'approve');
    expect([refused.status, refused.body.code]).toEqual([403, 'NOT_A_JUDGE']);
    const review = await t.service.db
      .selectFrom('reviews')
      .select(['status', 'counted_at'])
      .where('id', '=', reviewId)
      .executeTakeFirstOrThrow();
    expect(review).toEqual({ status: 'leased', counted_at: null });
    expect(await caseOf(submission.submissionId)).toMatchObject({ status: 'open', verdict: null });
    expect(await t.written('qc.review.fee-earned.v1', 'review_id', reviewId)).toHaveLength(0);
  });
});

describe('golden tasks', () => {
  it("decides a golden task's submission at once against its answer, and counts it for the contributor", async () => {
    const task = await t.fixtures.task('validation', { is_golden: true, golden_answer: { option: 'yes' } });
    const right = await t.fixtures.submission(task, { is_golden: true, answer: { option: 'yes' } });
    const wrong = await t.fixtures.submission(task, {
      is_golden: true,
      answer: { option: 'no' },
      contributor_id: right.contributorId,
      submission_id: randomUUID(),
    });
    const [approved] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      right.submissionId,
    );
    expect(approved!.data).toMatchObject({ verdict: 'approve', method: 'golden', confidence: 1 });
    const [rejected] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      wrong.submissionId,
    );
    expect(rejected!.data).toMatchObject({
      verdict: 'reject',
      method: 'golden',
      reason_codes: ['GOLDEN_MISMATCH'],
    });
    const record = await t.service.db
      .selectFrom('contributor_golden')
      .selectAll()
      .where('user_id', '=', right.contributorId)
      .executeTakeFirstOrThrow();
    expect(record).toMatchObject({ correct: 1, answered: 2 });
    expect(await t.written('qc.review.fee-earned.v1', 'submission_id', right.submissionId)).toHaveLength(0);
  });
});

describe('appeals', () => {
  it('land in the admin queue; an admin decision is a verdict of method appeal naming the appeal', async () => {
    const submission = await freshCase();
    const appealId = randomUUID();
    const filed = foreignEvent('submissions.appeal.filed.v1', {
      appeal_id: appealId,
      submission_id: submission.submissionId,
      assignment_id: submission.assignmentId,
      task_id: submission.taskId,
      campaign_id: submission.campaignId,
      contributor_id: submission.contributorId,
      company_id: submission.companyId,
      reason: 'Please listen again.',
      rejected_reason_codes: ['UNCLEAR'],
    });
    await t.deliver(consumerNames.submissions, filed);
    await t.deliver(consumerNames.submissions, filed, `${filed.id}-again`);
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const queue = await t.inject({ url: '/api/v1/admin/reviews?status=appealed&limit=100', token: admin });
    expect(queue.body.items.filter((i: { id: string }) => i.id === appealId)).toEqual([
      expect.objectContaining({ kind: 'appealed', appeal_reason: 'Please listen again.' }),
    ]);
    const contributor = await t.token({ sub: submission.contributorId, role: 'contributor' });
    const forbidden = await t.inject({ url: '/api/v1/admin/reviews?status=appealed', token: contributor });
    expect(forbidden.status).toBe(403);
    const decided = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${appealId}/decision`,
      token: admin,
      body: { verdict: 'approve', reason: 'The judges misheard it.' },
    });
    expect(decided.body.decision).toMatchObject({ kind: 'appeal', verdict: 'approve' });
    const [verdict] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.submissionId,
    );
    expect(verdict!.data).toMatchObject({ verdict: 'approve', method: 'appeal', appeal_id: appealId });
  });
});

describe('admin decisions', () => {
  it('refuse an admin their own submission, escalated or appealed (403 OWN_SUBMISSION): it stays for another admin', async () => {
    const adminId = randomUUID();
    const own = await t.token({ sub: adminId, role: 'admin' });
    const other = await t.token({ sub: randomUUID(), role: 'admin' });
    const decide = (id: string, token: string) =>
      t.inject({
        method: 'POST',
        url: `/api/v1/admin/reviews/${id}/decision`,
        token,
        body: { verdict: 'approve', reason: 'The work is fine.' },
      });

    // An escalated case of the admin's own work (upper case in the token: ids compare as uuids).
    const escalated = await freshCase({ contributor_id: adminId });
    const found = await caseOf(escalated.submissionId);
    await t.service.db.updateTable('cases').set({ status: 'escalated' }).where('id', '=', found.id).execute();
    const refused = await decide(found.id, await t.token({ sub: adminId.toUpperCase(), role: 'admin' }));
    expect([refused.status, refused.body.code]).toEqual([403, 'OWN_SUBMISSION']);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await caseOf(escalated.submissionId)).toMatchObject({ status: 'escalated', decided_by: null });
    expect(
      await t.written('qc.submission.verdict-reached.v1', 'submission_id', escalated.submissionId),
    ).toHaveLength(0);
    expect((await decide(found.id, other)).status).toBe(200);

    // An appeal of the admin's own rejected work.
    const appealed = await freshCase({ contributor_id: adminId });
    const appealId = randomUUID();
    await t.deliver(
      consumerNames.submissions,
      foreignEvent('submissions.appeal.filed.v1', {
        appeal_id: appealId,
        submission_id: appealed.submissionId,
        assignment_id: appealed.assignmentId,
        task_id: appealed.taskId,
        campaign_id: appealed.campaignId,
        contributor_id: adminId,
        company_id: appealed.companyId,
        reason: 'Please look again.',
        rejected_reason_codes: ['UNCLEAR'],
      }),
    );
    const refusedAppeal = await decide(appealId, own);
    expect([refusedAppeal.status, refusedAppeal.body.code]).toEqual([403, 'OWN_SUBMISSION']);
    const stillOpen = await t.service.db
      .selectFrom('appeals')
      .select(['status', 'decided_by'])
      .where('id', '=', appealId)
      .executeTakeFirstOrThrow();
    expect(stillOpen).toEqual({ status: 'open', decided_by: null });
    expect(
      await t.written('qc.submission.verdict-reached.v1', 'submission_id', appealed.submissionId),
    ).toHaveLength(0);
    const decided = await decide(appealId, other);
    expect(decided.body.decision).toMatchObject({ kind: 'appeal', verdict: 'approve' });
  });
});
