import { randomUUID } from 'node:crypto';
import { createLogger } from '@tessera/service-kit';
import { foreignEvent } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneIfInaccurate } from '../judges/pruning.ts';
import { consumerNames } from '../messaging/consumers.ts';
import { type Judge, type SubmissionFixture, startTestQc, type TestQc } from '../testing/harness.ts';

let t: TestQc;

beforeAll(async () => {
  t = await startTestQc();
});

afterAll(async () => {
  await t?.stop();
});

async function judgeWith(judge: Judge, submission: SubmissionFixture, verdict: string) {
  const leased = await t.inject({ url: '/api/v1/reviews/next', token: judge.token });
  expect(leased.status, JSON.stringify(leased.body)).toBe(200);
  expect(leased.body.review.submission_id).toBe(submission.submissionId);
  const voted = await t.inject({
    method: 'POST',
    url: `/api/v1/reviews/${leased.body.review.id}`,
    token: judge.token,
    body: { verdict, quality_score: 0.4, reasons: ['UNCLEAR'] },
  });
  expect(voted.status, JSON.stringify(voted.body)).toBe(200);
}

const caseOf = (submissionId: string) =>
  t.service.db
    .selectFrom('cases')
    .selectAll()
    .where('submission_id', '=', submissionId)
    .executeTakeFirstOrThrow();

describe('an appeal decision', () => {
  it("keeps the case's own verdict and records the appeal's decision with the appeal; re-judging leaves it alone", async () => {
    const submission = await t.fixtures.submission(await t.fixtures.task('text'));
    const judges = [await t.fixtures.judge(), await t.fixtures.judge(), await t.fixtures.judge()];
    for (const judge of judges) await judgeWith(judge, submission, 'reject');
    const judgedCase = await caseOf(submission.submissionId);
    expect(judgedCase).toMatchObject({
      status: 'decided',
      verdict: 'reject',
      method: 'consensus',
      reason_codes: ['UNCLEAR'],
    });

    const appealId = randomUUID();
    await t.deliver(
      consumerNames.submissions,
      foreignEvent('submissions.appeal.filed.v1', {
        appeal_id: appealId,
        submission_id: submission.submissionId,
        assignment_id: submission.assignmentId,
        task_id: submission.taskId,
        campaign_id: submission.campaignId,
        contributor_id: submission.contributorId,
        company_id: submission.companyId,
        reason: 'It is clear if you listen with headphones.',
        rejected_reason_codes: ['UNCLEAR'],
      }),
    );
    const adminId = randomUUID();
    const admin = await t.token({ sub: adminId, role: 'admin' });
    const decided = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${appealId}/decision`,
      token: admin,
      body: { verdict: 'approve', reason: 'Clear with headphones.' },
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);

    // The case is as its judges left it: verdict, method, confidence, reasons and time.
    expect(await caseOf(submission.submissionId)).toEqual(judgedCase);
    // The appeal holds its own decision.
    expect(
      await t.service.db
        .selectFrom('appeals')
        .select(['status', 'decision', 'decided_by', 'decision_reason', 'case_id', 'decision_reason_codes'])
        .where('id', '=', appealId)
        .executeTakeFirstOrThrow(),
    ).toEqual({
      status: 'decided',
      decision: 'approve',
      decided_by: adminId,
      decision_reason: 'Clear with headphones.',
      case_id: judgedCase.id,
      decision_reason_codes: [],
    });
    // Both verdicts were published, in order: the judges', then the appeal's.
    const verdicts = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.submissionId,
    );
    expect(verdicts.map((event) => [event.data.verdict, event.data.method])).toEqual([
      ['reject', 'consensus'],
      ['approve', 'appeal'],
    ]);
    expect(verdicts[1]!.data).toMatchObject({ appeal_id: appealId, reason_codes: [] });

    // One of its judges is removed after honeypots: the admin's decision stands, nothing is judged again.
    await t.service.db
      .updateTable('judges')
      .set({ honeypot_answered: 20, honeypot_correct: 0 })
      .where('user_id', '=', judges[0]!.id)
      .execute();
    const removed = await t.service.db.transaction().execute((trx) =>
      pruneIfInaccurate(trx, judges[0]!.id, new Date(), {
        floor: 0.7,
        minHoneypots: 20,
        rejudgeDays: 7,
        threshold: 0.9,
        log: createLogger({ name: 'test', level: 'silent', pretty: false }),
      }),
    );
    expect(removed).toBe(true);
    const [removal] = await t.written('qc.judge.removed.v1', 'judge_id', judges[0]!.id);
    expect(removal!.data).toMatchObject({ rejudged: 0 });
    expect(await caseOf(submission.submissionId)).toEqual(judgedCase);
    expect(
      await t.written('qc.submission.verdict-reached.v1', 'submission_id', submission.submissionId),
    ).toHaveLength(2);
  });
});
