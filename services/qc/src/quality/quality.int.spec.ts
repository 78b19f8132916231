import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qcWorkers } from '../service.ts';
import {
  type Judge,
  type SubmissionFixture,
  startTestQc,
  type TaskFixture,
  type TestQc,
} from '../testing/harness.ts';

let t: TestQc;
let now = new Date('2030-03-01T09:00:00.000Z');
const clock = () => now;
const advance = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};

const lease = (judge: Judge) => t.inject({ url: '/api/v1/reviews/next', token: judge.token });

/** The judge leases the next review (it must be this submission's) and submits the verdict. */
async function judgeWith(judge: Judge, submission: SubmissionFixture, verdict: string) {
  const leased = await lease(judge);
  expect(leased.status, JSON.stringify(leased.body)).toBe(200);
  expect(leased.body.review.submission_id).toBe(submission.submissionId);
  const voted = await t.inject({
    method: 'POST',
    url: `/api/v1/reviews/${leased.body.review.id}`,
    token: judge.token,
    body: { verdict, quality_score: 0.8, reasons: verdict === 'approve' ? [] : ['UNCLEAR'] },
  });
  expect(voted.status, JSON.stringify(voted.body)).toBe(200);
}

/** Each verdict from a judge of its own (new judges), or from the one given. */
async function judgeAll(submission: SubmissionFixture, verdicts: string[], first?: Judge) {
  for (const [i, verdict] of verdicts.entries()) {
    await judgeWith(i === 0 && first ? first : await t.fixtures.judge(), submission, verdict);
  }
}

const caseOf = (submissionId: string) =>
  t.service.db
    .selectFrom('cases')
    .selectAll()
    .where('submission_id', '=', submissionId)
    .executeTakeFirstOrThrow();

const A = 'approve';
const R = 'reject';

// One campaign of one company, judged as below (each case judged to its end before the next is
// opened, so the queue holds one case at a time); the clock moves so that times to verdict are known.
//
//   case  type        votes            outcome                         time to verdict
//   s1    text        A A A            consensus approve (0.964)       60 s
//   s2    text        A A R R A        escalated (0.8), admin rejects  600 s
//   s3    text        R A A R R        escalated (0.75), still queued  –
//   s4    validation  –                golden approve                  0 s
//   s5    validation  R A R R          consensus reject (0.9)          120 s
//   s7    validation  A A A            consensus approve               30 s
//   s6    validation  A                open, waiting for two more      –
//
// `star` casts the first vote of s1 (right), of s2 (wrong: the admin rejects) and the one vote of s6.
const companyId = randomUUID();
const campaignId = randomUUID();
const otherCompanyId = randomUUID();
let star: Judge;
let otherCampaign: TaskFixture;

beforeAll(async () => {
  t = await startTestQc({}, { clock, workers: { [qcWorkers.leaseExpiry]: false } });
  const text = await t.fixtures.task('text', { campaign_id: campaignId, company_id: companyId });
  const validation = await t.fixtures.task('validation', { campaign_id: campaignId, company_id: companyId });
  const golden = await t.fixtures.task('validation', {
    campaign_id: campaignId,
    company_id: companyId,
    is_golden: true,
    golden_answer: { option: 'yes' },
  });
  star = await t.fixtures.judge();
  const admin = await t.token({ sub: randomUUID(), role: 'admin' });

  // Another company's campaign, unanimous: none of it may show in this campaign's figures.
  otherCampaign = await t.fixtures.task('text', { company_id: otherCompanyId });
  await judgeAll(await t.fixtures.submission(otherCampaign), [A, A, A]);

  const s1 = await t.fixtures.submission(text);
  advance(60);
  await judgeAll(s1, [A, A, A], star);
  expect(await caseOf(s1.submissionId)).toMatchObject({ status: 'decided', method: 'consensus' });

  const s2 = await t.fixtures.submission(text, { judge_fee: { amount: 25, currency: 'USD' } });
  advance(600);
  await judgeAll(s2, [A, A, R, R, A], star);
  const escalated = await caseOf(s2.submissionId);
  expect(escalated.status).toBe('escalated');
  const decided = await t.inject({
    method: 'POST',
    url: `/api/v1/admin/reviews/${escalated.id}/decision`,
    token: admin,
    body: { verdict: 'reject', reason: 'Off the prompt.', reason_codes: ['OFF_TOPIC'] },
  });
  expect(decided.status, JSON.stringify(decided.body)).toBe(200);

  const s3 = await t.fixtures.submission(text);
  await judgeAll(s3, [R, A, A, R, R]);
  expect((await caseOf(s3.submissionId)).status).toBe('escalated');

  const s4 = await t.fixtures.submission(golden, { is_golden: true, answer: { option: 'yes' } });
  expect(await caseOf(s4.submissionId)).toMatchObject({ status: 'decided', method: 'golden' });

  const s5 = await t.fixtures.submission(validation);
  advance(120);
  await judgeAll(s5, [R, A, R, R]);
  expect(await caseOf(s5.submissionId)).toMatchObject({ status: 'decided', verdict: 'reject' });

  const s7 = await t.fixtures.submission(validation);
  advance(30);
  await judgeAll(s7, [A, A, A]);
  expect(await caseOf(s7.submissionId)).toMatchObject({ status: 'decided', verdict: 'approve' });

  const s6 = await t.fixtures.submission(validation);
  await judgeWith(star, s6, A);
  expect(await caseOf(s6.submissionId)).toMatchObject({ status: 'open', votes_wanted: 3 });
});

afterAll(async () => {
  await t?.stop();
});

const quality = (token: string, id: string = campaignId) =>
  t.inject({ url: `/api/v1/campaigns/${id}/quality`, token });

describe('GET /api/v1/campaigns/:id/quality', () => {
  it("gives a member of the campaign's company its figures", async () => {
    const userId = randomUUID();
    await t.fixtures.member(companyId, userId);
    const response = await quality(await t.token({ sub: userId, role: 'company' }));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const { quality: figures } = response.body;

    expect(figures).toMatchObject({
      campaign_id: campaignId,
      // s1, s2 (admin), s4 (golden), s5, s7; s3 is escalated and s6 open.
      decided: 5,
      // s3, still in the queue, and s2, which an admin decided.
      escalated: 2,
      by_method: { consensus: 3, admin: 1, golden: 1 },
      // Nearest rank over [0, 30, 60, 120, 600] s.
      time_to_verdict_s: { median: 60, p90: 600 },
    });
    expect(Object.keys(figures.by_method as Record<string, number>).sort()).toEqual([
      'admin',
      'consensus',
      'golden',
    ]);
    // Two escalated of the six cases that went to judges (the golden one never does).
    expect(figures.escalation_rate).toBeCloseTo(2 / 6, 12);
    // Votes per case the judges decided (consensus or admin; not golden): s1 3, s2 5, s5 4, s7 3.
    expect(figures.judges_per_submission).toBeCloseTo(15 / 4, 12);
  });

  it("gives Krippendorff's alpha per task type, computed by hand", async () => {
    const userId = randomUUID();
    await t.fixtures.member(companyId, userId);
    const response = await quality(await t.token({ sub: userId, role: 'company' }));
    const [text, validation] = response.body.quality.by_task_type;

    // text: s1 {A A A}, s2 {A A R R A}, s3 {R A A R R}; every unit has m_u ≥ 2 values.
    // Coincidences within units, each pair weighted 1 / (m_u − 1):
    //   o_AA = 3·2/2 + 3·2/4 + 2·1/4 = 3 + 1.5 + 0.5 = 5
    //   o_RR =     0 + 2·1/4 + 3·2/4 =     0.5 + 1.5 = 2
    //   n = 13 pairable values, n_A = 8, n_R = 5
    //   observed disagreement Σ_{c≠k} o_ck = n − (o_AA + o_RR) = 13 − 7 = 6
    //   expected Σ_{c≠k} n_c n_k = 2 · 8 · 5 = 80
    //   alpha = 1 − (n − 1) · 6 / 80 = 1 − 72 / 80 = 0.1
    expect(text).toMatchObject({ task_type: 'text', decided: 2 });
    expect(text.krippendorff_alpha).toBeCloseTo(0.1, 12);

    // validation: s5 {R A R R}, s7 {A A A}; s6's one vote is not pairable, s4 (golden) has none.
    //   o_RR = 3·2/3 = 2, o_AA = 3·2/2 = 3; n = 7, n_A = 4, n_R = 3
    //   observed = 7 − 5 = 2; expected = 2 · 4 · 3 = 24
    //   alpha = 1 − 6 · 2 / 24 = 0.5
    expect(validation).toMatchObject({ task_type: 'validation', decided: 3 });
    expect(validation.krippendorff_alpha).toBeCloseTo(0.5, 12);
  });

  it('gives an admin the same figures, and a company key with submissions:read', async () => {
    const member = randomUUID();
    await t.fixtures.member(companyId, member);
    const asMember = await quality(await t.token({ sub: member, role: 'company' }));
    const asAdmin = await quality(await t.token({ sub: randomUUID(), role: 'admin' }));
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toEqual(asMember.body);
    const key = await quality(t.companyKeyToken(companyId, ['submissions:read']));
    expect(key.status).toBe(200);
    expect(key.body).toEqual(asMember.body);
  });

  it('hides the campaign (404 CAMPAIGN_NOT_FOUND) from everyone else', async () => {
    const outsider = randomUUID();
    await t.fixtures.member(otherCompanyId, outsider);
    const tokens = [
      // A member of another company.
      await t.token({ sub: outsider, role: 'company' }),
      // A company user who is nobody's member.
      await t.token({ sub: randomUUID(), role: 'company' }),
      // The company's own key without the scope, another company's key with it.
      t.companyKeyToken(companyId, ['campaigns:read']),
      t.companyKeyToken(otherCompanyId, ['submissions:read']),
      // A contributor, a judge of the campaign's work included.
      star.token,
    ];
    for (const token of tokens) {
      const response = await quality(token);
      expect([response.status, response.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    }
    // The outsider reads their own company's campaign, which holds only its own case.
    const own = await quality(await t.token({ sub: outsider, role: 'company' }), otherCampaign.campaignId);
    expect(own.status).toBe(200);
    expect(own.body.quality).toMatchObject({
      decided: 1,
      escalated: 0,
      escalation_rate: 0,
      by_method: { consensus: 1 },
      judges_per_submission: 3,
      by_task_type: [{ task_type: 'text', decided: 1, krippendorff_alpha: null }],
    });
  });

  it('answers 404 CAMPAIGN_NOT_FOUND for a campaign QC never heard of, even to an admin; 401 without a token', async () => {
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const unknown = await quality(admin, randomUUID());
    expect([unknown.status, unknown.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    const anonymous = await t.inject({ url: `/api/v1/campaigns/${campaignId}/quality` });
    expect(anonymous.status).toBe(401);
  });
});

describe('GET /api/v1/reviews/me/stats', () => {
  it('gives a judge their record: the fees of the counted reviews, what was submitted and counted, agreement', async () => {
    // As of the current day's start (UTC): the next day, everything judged today shows.
    advance(86_400);
    const response = await t.inject({ url: '/api/v1/reviews/me/stats', token: star.token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.stats).toEqual({
      // Right on s1, wrong on s2 (the admin rejected): (3 + 1) / (4 + 2).
      accuracy: expect.closeTo(4 / 6, 12),
      // s1, s2 and s6; s6 is still open, so not counted and not paid.
      reviews_submitted: 3,
      reviews_counted: 2,
      agreement: 0.5,
      removed: false,
      // s1's fee of 10 and s2's of 25.
      earnings: [{ amount: 35, currency: 'USD' }],
    });
  });

  it('gives a judge with no record the prior and nothing earned', async () => {
    const newcomer = await t.fixtures.judge();
    const response = await t.inject({ url: '/api/v1/reviews/me/stats', token: newcomer.token });
    expect(response.status).toBe(200);
    expect(response.body.stats).toEqual({
      accuracy: 0.75,
      reviews_submitted: 0,
      reviews_counted: 0,
      agreement: null,
      removed: false,
      earnings: [],
    });
  });
});
