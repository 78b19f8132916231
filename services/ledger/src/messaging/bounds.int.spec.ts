// Forged or mistaken events reaching the ledger on their real subjects: money moves no further
// than the campaign's owner and the claim's reserved terms allow.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds } from '../domain/accounts.ts';
import { foreign, startTestLedger, type TestLedger, usd } from './testing.ts';
import { transferIds } from './transfer-ids.ts';

let t: TestLedger;

const PROMOTIONS_BUDGET = 1_000;

beforeAll(async () => {
  t = await startTestLedger({ LEDGER_PROMOTIONS_BUDGET_MINOR: PROMOTIONS_BUDGET });
});

afterAll(async () => {
  await t?.stop();
});

const balance = (accountId: string) => t.available(accountId);

async function ownedCampaign() {
  const companyId = randomUUID();
  const campaignId = randomUUID();
  await t.fundCompany(companyId, 100_000);
  await t.createCampaign(campaignId, companyId);
  const request = foreign('tasks.campaign.funding-requested.v1', {
    campaign_id: campaignId,
    company_id: companyId,
    budget: usd(50_000),
  });
  await t.deliver('ledger-tasks', request);
  await t.outcomes('ledger.campaign.funded.v1', request.id);
  return { companyId, campaignId };
}

const approval = (
  campaignId: string,
  contributorId: string,
  assignmentId: string | undefined,
  amount: number,
) =>
  foreign('submissions.submission.approved.v1', {
    submission_id: randomUUID(),
    ...(assignmentId ? { assignment_id: assignmentId } : {}),
    task_id: randomUUID(),
    campaign_id: campaignId,
    contributor_id: contributorId,
    reward: usd(amount),
    xp_reward: 0,
  });

const feeEarned = (campaignId: string, assignmentId: string, judgeId: string, amount: number) =>
  foreign('qc.review.fee-earned.v1', {
    review_id: randomUUID(),
    submission_id: randomUUID(),
    assignment_id: assignmentId,
    campaign_id: campaignId,
    judge_id: judgeId,
    fee: usd(amount),
  });

describe('funding', () => {
  it('of another company’s campaign debits no one and is answered funding-rejected', async () => {
    const { campaignId } = await ownedCampaign();
    const victim = randomUUID();
    await t.fundCompany(victim, 100_000);
    const forged = foreign('tasks.campaign.funding-requested.v1', {
      campaign_id: campaignId,
      company_id: victim,
      budget: usd(40_000),
    });
    await t.deliver('ledger-tasks', forged);
    const [rejected] = await t.outcomes('ledger.campaign.funding-rejected.v1', forged.id);
    expect(rejected!.data).toMatchObject({ company_id: victim, reason_code: 'CAMPAIGN_NOT_OWNED' });
    expect(await balance(accountIds.companyCredits(victim))).toBe(100_000);
    expect(await balance(accountIds.campaignBudget(campaignId))).toBe(50_000);
    expect(await t.ledger.resources.engine.getTransfer(transferIds.funding(forged.id))).toBeUndefined();
  });

  it('of a campaign the ledger never saw created moves nothing', async () => {
    const companyId = randomUUID();
    await t.fundCompany(companyId, 100_000);
    const request = foreign('tasks.campaign.funding-requested.v1', {
      campaign_id: randomUUID(),
      company_id: companyId,
      budget: usd(10_000),
    });
    await t.deliver('ledger-tasks', request);
    const [rejected] = await t.outcomes('ledger.campaign.funding-rejected.v1', request.id);
    expect(rejected!.data.reason_code).toBe('CAMPAIGN_UNKNOWN');
    expect(await balance(accountIds.companyCredits(companyId))).toBe(100_000);
  });
});

describe('rewards', () => {
  it('pays an inflated approval only the reward its claim reserved', async () => {
    const { campaignId } = await ownedCampaign();
    const contributor = randomUUID();
    const assignmentId = await t.claim({ campaignId, contributorId: contributor, reward: 1_000 });
    const inflated = approval(campaignId, contributor, assignmentId, 40_000);
    await t.deliver('ledger-submissions', inflated);
    const [paid] = await t.outcomes('ledger.reward.paid.v1', inflated.id);
    expect(paid!.data.amount).toEqual(usd(1_000));
    expect(await balance(accountIds.userAvailable(contributor))).toBe(1_000);
  });

  it('pays a second approval of the same claim nothing', async () => {
    const { campaignId } = await ownedCampaign();
    const contributor = randomUUID();
    const assignmentId = await t.claim({ campaignId, contributorId: contributor, reward: 1_000 });
    await t.deliver('ledger-submissions', approval(campaignId, contributor, assignmentId, 1_000));
    const doubled = approval(campaignId, contributor, assignmentId, 1_000);
    await t.deliver('ledger-submissions', doubled);
    const [failed] = await t.outcomes('ledger.reward.failed.v1', doubled.id);
    // Nothing of it is owed (tasks booked the claim’s reward once): tasks’ owed must not drop by it.
    expect(failed!.data).toMatchObject({ reason_code: 'CLAIM_ALREADY_PAID', amount: usd(0) });
    expect(await balance(accountIds.userAvailable(contributor))).toBe(1_000);
    expect(await t.ledger.resources.engine.getTransfer(transferIds.reward(doubled.data.submission_id))).toBe(
      undefined,
    );
  });

  it('pays nothing to an approval naming no claim, or another contributor than its claim’s', async () => {
    const { campaignId } = await ownedCampaign();
    const contributor = randomUUID();
    const assignmentId = await t.claim({ campaignId, contributorId: contributor, reward: 1_000 });
    const unclaimed = approval(campaignId, contributor, undefined, 1_000);
    const stranger = randomUUID();
    const misdirected = approval(campaignId, stranger, assignmentId, 1_000);
    await t.deliver('ledger-submissions', unclaimed);
    await t.deliver('ledger-submissions', misdirected);
    expect((await t.outcomes('ledger.reward.failed.v1', unclaimed.id))[0]!.data.reason_code).toBe(
      'CLAIM_MISSING',
    );
    expect((await t.outcomes('ledger.reward.failed.v1', misdirected.id))[0]!.data.reason_code).toBe(
      'CLAIM_MISMATCH',
    );
    expect(await balance(accountIds.userAvailable(contributor))).toBe(0);
    expect(await balance(accountIds.userAvailable(stranger))).toBe(0);
  });

  it('retries an approval that overtook its claim, and pays it once the claim is known', async () => {
    const { campaignId } = await ownedCampaign();
    const contributor = randomUUID();
    const early = approval(campaignId, contributor, randomUUID(), 700);
    await t.publish(early);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await balance(accountIds.userAvailable(contributor))).toBe(0);
    await t.deliver(
      'ledger-tasks',
      foreign('tasks.assignment.claimed.v1', {
        assignment_id: early.data.assignment_id!,
        task_id: early.data.task_id,
        campaign_id: campaignId,
        company_id: randomUUID(),
        contributor_id: contributor,
        reward: usd(700),
        xp_reward: 0,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    const [paid] = await t.outcomes('ledger.reward.paid.v1', early.id);
    expect(paid!.data.amount).toEqual(usd(700));
    expect(await balance(accountIds.userAvailable(contributor))).toBe(700);
  });
});

describe('judge fees', () => {
  it('never pay above the claim’s fee, twice to one judge, or more judges than the claim allows', async () => {
    const { campaignId } = await ownedCampaign();
    const assignmentId = await t.claim({
      campaignId,
      contributorId: randomUUID(),
      reward: 1_000,
      judgeFee: 50,
      maxJudges: 2,
    });
    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    const excess = feeEarned(campaignId, assignmentId, first, 5_000);
    await t.deliver('ledger-qc', excess);
    expect((await t.outcomes('ledger.judge-fee.paid.v1', excess.id))[0]!.data.amount).toEqual(usd(50));

    const again = feeEarned(campaignId, assignmentId, first, 500);
    await t.deliver('ledger-qc', again);
    // The refusal names what tasks booked for it (the claim’s fee at most), so tasks’ owed settles.
    expect((await t.outcomes('ledger.judge-fee.failed.v1', again.id))[0]!.data).toMatchObject({
      reason_code: 'JUDGE_ALREADY_PAID',
      amount: usd(50),
    });

    await t.deliver('ledger-qc', feeEarned(campaignId, assignmentId, second, 50));
    const beyond = feeEarned(campaignId, assignmentId, third, 50);
    await t.deliver('ledger-qc', beyond);
    expect((await t.outcomes('ledger.judge-fee.failed.v1', beyond.id))[0]!.data.reason_code).toBe(
      'MAX_JUDGES_PAID',
    );

    expect(await balance(accountIds.userAvailable(first))).toBe(50);
    expect(await balance(accountIds.userAvailable(second))).toBe(50);
    expect(await balance(accountIds.userAvailable(third))).toBe(0);
    expect(await balance(accountIds.campaignBudget(campaignId))).toBe(50_000 - 100);
  });

  it('pay a redelivered fee once, as a replay', async () => {
    const { campaignId } = await ownedCampaign();
    const assignmentId = await t.claim({ campaignId, contributorId: randomUUID(), reward: 0, judgeFee: 50 });
    const judge = randomUUID();
    const earned = feeEarned(campaignId, assignmentId, judge, 50);
    await t.deliver('ledger-qc', earned);
    await t.deliver('ledger-qc', { ...earned, id: randomUUID() });
    await t.outcomes('ledger.judge-fee.paid.v1', earned.id);
    expect(await balance(accountIds.userAvailable(judge))).toBe(50);
  });
});

describe('promotions', () => {
  it('pay nothing beyond the month’s budget, and record the refusal for an admin', async () => {
    const before = await balance(accountIds.platformPromotions);
    const userId = randomUUID();
    const bonus = (amount: number) =>
      foreign('engagement.bonus.awarded.v1', {
        bonus_id: randomUUID(),
        user_id: userId,
        amount: usd(amount),
        reason_code: 'streak_7',
      });
    const paid = bonus(600);
    const overBudget = bonus(500);
    await t.deliver('ledger-engagement', paid);
    await t.deliver('ledger-engagement', overBudget);
    // The same refused bonus re-sent as another event is still refused, not paid.
    await t.deliver('ledger-engagement', { ...overBudget, id: randomUUID() });
    const referral = foreign('engagement.referral.rewarded.v1', {
      referral_id: randomUUID(),
      referrer_id: userId,
      referred_user_id: randomUUID(),
      amount: usd(PROMOTIONS_BUDGET - 600),
    });
    await t.deliver('ledger-engagement', referral);
    await t.outcomes('ledger.promotion.paid.v1', referral.id);

    expect(await balance(accountIds.userAvailable(userId))).toBe(PROMOTIONS_BUDGET);
    expect(await balance(accountIds.platformPromotions)).toBe(before - PROMOTIONS_BUDGET);
    expect(await t.ledger.resources.engine.getTransfer(transferIds.bonus(overBudget.data.bonus_id))).toBe(
      undefined,
    );
    expect(
      (await t.published('ledger.promotion.paid.v1')).filter((e) => e.causationid === overBudget.id),
    ).toHaveLength(0);
    const refused = await t.ledger.db
      .selectFrom('ledger_promotions')
      .selectAll()
      .where('status', '=', 'refused')
      .where('user_id', '=', userId)
      .execute();
    expect(refused).toEqual([
      expect.objectContaining({
        promotion_key: `bonus:${overBudget.data.bonus_id}`,
        reason_code: 'PROMOTIONS_BUDGET_EXHAUSTED',
      }),
    ]);

    const url = '/api/v1/admin/ledger/promotions';
    const seen = await t.inject({ url, token: await t.token({ sub: randomUUID(), role: 'admin' }) });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({
      budget: usd(PROMOTIONS_BUDGET),
      spent: usd(PROMOTIONS_BUDGET),
      refused: [
        {
          promotion: `bonus:${overBudget.data.bonus_id}`,
          user_id: userId,
          amount: usd(500),
          reason_code: 'PROMOTIONS_BUDGET_EXHAUSTED',
        },
      ],
    });
    expect((await t.inject({ url, token: await t.token({ role: 'contributor' }) })).status).toBe(403);
    expect(
      (await t.inject({ url: `${url}?period=2026-13`, token: await t.token({ role: 'admin' }) })).status,
    ).toBe(400);
  });
});
