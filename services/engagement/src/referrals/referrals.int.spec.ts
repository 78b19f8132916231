import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { startTestEngagement, type TestEngagement, type TestUser } from '../testing/harness.ts';

let t: TestEngagement;
beforeAll(async () => {
  t = await startTestEngagement();
});
afterAll(() => t?.stop());

function approve(t: TestEngagement, userId: string, submissionId: string = randomUUID()) {
  return t.emit('submissions.submission.approved.v1', {
    submission_id: submissionId,
    task_id: randomUUID(),
    campaign_id: randomUUID(),
    contributor_id: userId,
    reward: { amount: 10, currency: 'USD' },
    xp_reward: 5,
  });
}

async function codeOf(t: TestEngagement, user: TestUser): Promise<string> {
  const response = await t.inject({ url: '/api/v1/me/referral', token: user.token });
  expect(response.status).toBe(200);
  return String(response.body.code);
}

function referralsOf(t: TestEngagement, referredId: string) {
  return t.service.db
    .selectFrom('referrals')
    .selectAll()
    .where('referred_user_id', '=', referredId)
    .orderBy('level')
    .execute();
}

describe('a referral', () => {
  it('pays its referrer once: duplicates and redeliveries of an approval count once', async () => {
    const referrer = await t.contributor();
    const referred = await t.contributor({ referralCode: await codeOf(t, referrer) });
    const [referral] = await referralsOf(t, referred.id);
    expect(referral).toMatchObject({ referrer_id: referrer.id, level: 1, status: 'pending', approvals: 0 });
    const rewarded = () => t.written('engagement.referral.rewarded.v1', 'referral_id', referral!.id);

    const first = await approve(t, referred.id);
    await t.handle(first); // delivered twice (the bus drops the same message id)
    await t.deliver(consumerNames.submissions, first, randomUUID()); // again under a new message id
    await approve(t, referred.id, first.data.submission_id); // the same submission told by a new event
    await approve(t, referred.id);
    await approve(t, referred.id);
    await approve(t, referred.id);
    expect(await referralsOf(t, referred.id)).toMatchObject([{ status: 'pending', approvals: 4 }]);
    expect(await rewarded()).toEqual([]);

    const fifth = await approve(t, referred.id);
    await approve(t, referred.id); // a sixth
    await t.handle({ ...fifth, id: randomUUID() }); // the qualifying one again, as a new event

    const events = await rewarded();
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toEqual({
      referral_id: referral!.id,
      referrer_id: referrer.id,
      referred_user_id: referred.id,
      amount: { amount: 500, currency: 'USD' },
    });
    expect(events[0]?.causationid).toBe(fifth.id);
    expect(await t.written('engagement.referral.rewarded.v1', 'referrer_id', referrer.id)).toHaveLength(1);
    expect(await referralsOf(t, referred.id)).toMatchObject([
      { status: 'qualified', approvals: 5, qualified_at: expect.any(Date) },
    ]);
  });

  it('never pays for a self-referral, even when the user’s own code reaches identity’s redelivered signup', async () => {
    const user = await t.contributor();
    const ownCode = await codeOf(t, user);
    await t.emit('identity.user.registered.v1', {
      user_id: user.id,
      role: 'contributor',
      country: 'NG',
      languages: ['en'],
      referral_code: ownCode,
    });
    expect(await referralsOf(t, user.id)).toMatchObject([
      { referrer_id: user.id, status: 'rejected', reason_code: 'SELF_REFERRAL' },
    ]);
    for (let i = 0; i < 5; i++) await approve(t, user.id);
    expect(await referralsOf(t, user.id)).toMatchObject([{ status: 'rejected', approvals: 0 }]);
    expect(await t.written('engagement.referral.rewarded.v1', 'referred_user_id', user.id)).toEqual([]);
    expect(await t.written('engagement.referral.rewarded.v1', 'referrer_id', user.id)).toEqual([]);
  });

  it('is not made by an unknown code, a company user, or a suspended referrer', async () => {
    const unknown = await t.contributor({ referralCode: 'ZZZZ9999' });
    expect(await referralsOf(t, unknown.id)).toEqual([]);

    const referrer = await t.contributor();
    const code = await codeOf(t, referrer);
    const company = randomUUID();
    await t.emit('identity.user.registered.v1', {
      user_id: company,
      role: 'company',
      country: 'NG',
      languages: ['en'],
      referral_code: code,
    });
    expect(await referralsOf(t, company)).toEqual([]);
    const companyCode = await t.service.db
      .selectFrom('referral_codes')
      .select('code')
      .where('user_id', '=', company)
      .executeTakeFirst();
    expect(companyCode).toBeUndefined();
    const companyToken = await t.token({ sub: company, role: 'company' });
    const refused = await t.inject({ url: '/api/v1/me/referral', token: companyToken });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('REFERRALS_NOT_FOR_COMPANIES');

    await t.emit('identity.user.suspended.v1', { user_id: referrer.id, reason_code: 'FRAUD' });
    const late = await t.contributor({ referralCode: code });
    expect(await referralsOf(t, late.id)).toEqual([]);
  });

  it('ends with erasure: the referred user’s pending referral is rejected, the referrer’s code goes', async () => {
    const referrer = await t.contributor();
    const code = await codeOf(t, referrer);
    const referred = await t.contributor({ referralCode: code });
    await approve(t, referred.id);
    await t.emit('identity.user.erased.v1', { user_id: referred.id });
    expect(await referralsOf(t, referred.id)).toMatchObject([
      { status: 'rejected', reason_code: 'REFERRED_ERASED' },
    ]);
    for (let i = 0; i < 5; i++) await approve(t, referred.id);
    expect(await t.written('engagement.referral.rewarded.v1', 'referred_user_id', referred.id)).toEqual([]);

    await t.emit('identity.user.erased.v1', { user_id: referrer.id });
    const after = await t.contributor({ referralCode: code });
    expect(await referralsOf(t, after.id)).toEqual([]);
  });
});

describe('GET /api/v1/me/referral', () => {
  it('shows the code, how each referral stands (never who), and the reward', async () => {
    const referrer = await t.contributor();
    const code = await codeOf(t, referrer);
    expect(await codeOf(t, referrer)).toBe(code);
    const first = await t.contributor({ referralCode: code });
    const second = await t.contributor({ referralCode: code });
    for (let i = 0; i < 5; i++) await approve(t, first.id);
    await approve(t, second.id);

    const response = await t.inject({ url: '/api/v1/me/referral', token: referrer.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      code,
      reward: { amount: 500, currency: 'USD' },
      next_cursor: null,
    });
    expect(response.body.referrals).toHaveLength(2);
    const shown = response.body.referrals as { status: string }[];
    const byStatus = Object.fromEntries(shown.map((r) => [r.status, r]));
    expect(byStatus.qualified).toMatchObject({ approvals: 5, required: 5, qualified_at: expect.any(String) });
    expect(byStatus.pending).toMatchObject({ approvals: 1, required: 5, qualified_at: null });
    const text = JSON.stringify(response.body);
    expect(text).not.toContain(first.id);
    expect(text).not.toContain(second.id);

    const paged = await t.inject({ url: '/api/v1/me/referral?limit=1', token: referrer.token });
    expect(paged.body.referrals).toHaveLength(1);
    const rest = await t.inject({
      url: `/api/v1/me/referral?limit=1&cursor=${paged.body.next_cursor}`,
      token: referrer.token,
    });
    expect(rest.body.referrals).toHaveLength(1);
    expect(rest.body.next_cursor).toBeNull();
    expect(rest.body.referrals[0].status).not.toBe(paged.body.referrals[0].status);
  });

  it('creates a code for a user who registered before referrals existed, and refuses API keys', async () => {
    const early = await t.token({ sub: randomUUID(), role: 'contributor' });
    const one = await t.inject({ url: '/api/v1/me/referral', token: early });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ code: expect.stringMatching(/^[A-HJ-NP-Z2-9]{8}$/), referrals: [] });
    expect((await t.inject({ url: '/api/v1/me/referral', token: early })).body.code).toBe(one.body.code);
    expect(
      (await t.inject({ url: '/api/v1/me/referral', token: t.companyKeyToken(randomUUID(), []) })).status,
    ).toBe(403);
    expect((await t.inject({ url: '/api/v1/me/referral' })).status).toBe(401);
    expect((await t.inject({ url: '/api/v1/me/referral?limit=0', token: early })).status).toBe(400);
  });
});

describe('the second level', () => {
  it('is off by default: only the direct referrer is recorded', async () => {
    const a = await t.contributor();
    const b = await t.contributor({ referralCode: await codeOf(t, a) });
    const c = await t.contributor({ referralCode: await codeOf(t, b) });
    expect((await referralsOf(t, c.id)).map((r) => [r.level, r.referrer_id])).toEqual([[1, b.id]]);
  });

  it('when configured, pays the referrer’s own referrer its own amount, once', async () => {
    const t2 = await startTestEngagement({ ENGAGEMENT_REFERRAL_SECOND_LEVEL_REWARD: 100 });
    try {
      const a = await t2.contributor();
      const b = await t2.contributor({ referralCode: await codeOf(t2, a) });
      const c = await t2.contributor({ referralCode: await codeOf(t2, b) });
      expect((await referralsOf(t2, c.id)).map((r) => [r.level, r.referrer_id, r.status])).toEqual([
        [1, b.id, 'pending'],
        [2, a.id, 'pending'],
      ]);
      for (let i = 0; i < 6; i++) await approve(t2, c.id);
      const paid = await t2.written('engagement.referral.rewarded.v1', 'referred_user_id', c.id);
      expect(paid.map((e) => [e.data.referrer_id, e.data.amount.amount]).sort()).toEqual(
        [
          [a.id, 100],
          [b.id, 500],
        ].sort(),
      );
      // B's own referral by A is level 1 for B: A has one reward for B only once B qualifies.
      expect(await t2.written('engagement.referral.rewarded.v1', 'referred_user_id', b.id)).toEqual([]);
    } finally {
      await t2.stop();
    }
  });
});
