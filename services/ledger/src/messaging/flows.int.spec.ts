import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds } from '../domain/accounts.ts';
import { createLedger } from '../engine/ledger.ts';
import { transferIds } from './transfer-ids.ts';
import { foreign, startTestLedger, type TestLedger, usd } from './testing.ts';

let t: TestLedger;

beforeAll(async () => {
  t = await startTestLedger();
});

afterAll(async () => {
  await t?.stop();
});

const db = () => t.ledger.db;
const wallet = (userId: string) =>
  db()
    .selectFrom('wallets')
    .selectAll()
    .where('user_id', '=', userId)
    .where('currency', '=', 'USD')
    .executeTakeFirst();
const budget = (campaignId: string) =>
  db().selectFrom('campaign_budgets').selectAll().where('campaign_id', '=', campaignId).executeTakeFirst();
const balance = async (accountId: string) => {
  const row = await db()
    .selectFrom('account_balances')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('currency', '=', 'USD')
    .executeTakeFirst();
  return row ? row.credits_posted - row.debits_posted - row.debits_pending : 0;
};
const transfersOf = async (id: string) =>
  (await t.ledger.resources.store.readStream(`transfer-${id}`)).length;

describe('campaign funding', () => {
  it('moves the budget into escrow and the fee into revenue, linked, and announces it', async () => {
    const revenueBefore = await balance(accountIds.platformRevenue);
    const { companyId, campaignId, request } = await t.fundedCampaign(100_000, 50_000);
    const [funded] = await t.outcomes('ledger.campaign.funded.v1', request.id);
    expect(funded!.data).toEqual({
      campaign_id: campaignId,
      company_id: companyId,
      budget: usd(50_000),
      fee: usd(5_000),
      transfer_ids: [transferIds.funding(request.id), transferIds.fee(request.id)],
    });
    expect(funded!.correlationid).toBe(request.correlationid);
    await t.projected();
    expect(await balance(accountIds.companyCredits(companyId))).toBe(45_000);
    expect(await balance(accountIds.platformRevenue)).toBe(revenueBefore + 5_000);
    expect(await budget(campaignId)).toMatchObject({
      company_id: companyId,
      funded: 50_000,
      spent: 0,
      returned: 0,
      remaining: 50_000,
    });
  });

  it('is refused as a whole when the credits cover the budget but not the fee', async () => {
    const companyId = randomUUID();
    const campaignId = randomUUID();
    await t.fundCompany(companyId, 52_000);
    await t.createCampaign(campaignId, companyId);
    const request = foreign('tasks.campaign.funding-requested.v1', {
      campaign_id: campaignId,
      company_id: companyId,
      budget: usd(50_000),
    });
    await t.deliver('ledger-tasks', request);
    const [rejected] = await t.outcomes('ledger.campaign.funding-rejected.v1', request.id);
    expect(rejected!.data).toMatchObject({
      campaign_id: campaignId,
      company_id: companyId,
      budget: usd(50_000),
      reason_code: 'INSUFFICIENT_FUNDS',
    });
    await t.projected();
    expect(await balance(accountIds.companyCredits(companyId))).toBe(52_000);
    expect(await budget(campaignId)).toBeUndefined();
    expect(await transfersOf(transferIds.funding(request.id))).toBe(0);
  });

  it('funds again on a second request for the same campaign (each request is its own attempt)', async () => {
    const { companyId, campaignId } = await t.fundedCampaign(200_000, 50_000);
    const again = foreign('tasks.campaign.funding-requested.v1', {
      campaign_id: campaignId,
      company_id: companyId,
      budget: usd(10_000),
    });
    await t.deliver('ledger-tasks', again);
    await t.outcomes('ledger.campaign.funded.v1', again.id);
    await t.projected();
    expect(await budget(campaignId)).toMatchObject({ funded: 60_000, remaining: 60_000 });
    expect(await balance(accountIds.companyCredits(companyId))).toBe(200_000 - 66_000);
  });
});

describe('rewards and judge fees', () => {
  it('pays an approved submission from the budget to the contributor', async () => {
    const { campaignId } = await t.fundedCampaign();
    const contributor = randomUUID();
    const approved = await t.approval({ campaignId, reward: 1_250, contributorId: contributor, xp: 10 });
    await t.deliver('ledger-submissions', approved);
    const [paid] = await t.outcomes('ledger.reward.paid.v1', approved.id);
    expect(paid!.data).toEqual({
      submission_id: approved.data.submission_id,
      campaign_id: campaignId,
      contributor_id: contributor,
      amount: usd(1_250),
      transfer_id: transferIds.reward(approved.data.submission_id),
      campaign_remaining: usd(48_750),
    });
    await t.projected();
    expect(await wallet(contributor)).toMatchObject({ available: 1_250, held: 0, total_earned: 1_250 });
    expect(await budget(campaignId)).toMatchObject({ spent: 1_250, remaining: 48_750 });
  });

  it('pays approvals that arrive together once each, their transfers sharing the engine’s batches', async () => {
    const { campaignId } = await t.fundedCampaign(100_000, 50_000);
    const approvals = [];
    for (let i = 0; i < 40; i += 1) {
      approvals.push(await t.approval({ campaignId, reward: 100 + i }));
    }
    const engine = t.ledger.resources.engine;
    const before = engine.stats();
    await Promise.all(approvals.map((approved) => t.publish(approved)));
    await Promise.all(approvals.map((approved) => t.outcomes('ledger.reward.paid.v1', approved.id)));

    const after = engine.stats();
    const consumer = t.ledger.consumers.find((c) => c.name === 'ledger-submissions')!;
    expect(consumer.stats().largestBatch).toBeGreaterThan(1);
    // Fewer appends than payments: the consumer's lanes handed the writer several at once.
    expect(after.commands - before.commands).toBeGreaterThanOrEqual(40);
    expect(after.batches - before.batches).toBeLessThan(after.commands - before.commands);
    await t.projected();
    for (const approved of approvals) {
      expect(await transfersOf(transferIds.reward(approved.data.submission_id))).toBe(1);
      expect(await wallet(approved.data.contributor_id)).toMatchObject({
        available: approved.data.reward.amount,
      });
    }
    const paid = approvals.reduce((sum, a) => sum + a.data.reward.amount, 0);
    expect(await budget(campaignId)).toMatchObject({ spent: paid, remaining: 50_000 - paid });
  });

  it('announces a failed reward when the budget runs short, and moves nothing', async () => {
    const { campaignId } = await t.fundedCampaign(100_000, 1_000);
    const contributor = randomUUID();
    const approved = await t.approval({ campaignId, reward: 1_001, contributorId: contributor });
    await t.deliver('ledger-submissions', approved);
    const [failed] = await t.outcomes('ledger.reward.failed.v1', approved.id);
    expect(failed!.data).toMatchObject({ amount: usd(1_001), reason_code: 'INSUFFICIENT_FUNDS' });
    await t.projected();
    expect(await wallet(contributor)).toBeUndefined();
    expect(await budget(campaignId)).toMatchObject({ remaining: 1_000 });
  });

  it('pays a judge fee the same way', async () => {
    const { campaignId } = await t.fundedCampaign();
    const judge = randomUUID();
    const earned = foreign('qc.review.fee-earned.v1', {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      assignment_id: await t.claim({ campaignId, contributorId: randomUUID(), reward: 0, judgeFee: 75 }),
      campaign_id: campaignId,
      judge_id: judge,
      fee: usd(75),
    });
    await t.deliver('ledger-qc', earned);
    const [paid] = await t.outcomes('ledger.judge-fee.paid.v1', earned.id);
    expect(paid!.data).toMatchObject({
      review_id: earned.data.review_id,
      judge_id: judge,
      amount: usd(75),
      transfer_id: transferIds.judgeFee(earned.data.review_id),
      campaign_remaining: usd(49_925),
    });
    await t.projected();
    expect(await wallet(judge)).toMatchObject({ available: 75, total_earned: 75 });
  });

  it('announces a failed judge fee when the budget runs short', async () => {
    const judge = randomUUID();
    const campaignId = randomUUID();
    const earned = foreign('qc.review.fee-earned.v1', {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      assignment_id: await t.claim({ campaignId, contributorId: randomUUID(), reward: 0, judgeFee: 75 }),
      campaign_id: campaignId,
      judge_id: judge,
      fee: usd(75),
    });
    await t.deliver('ledger-qc', earned);
    const [failed] = await t.outcomes('ledger.judge-fee.failed.v1', earned.id);
    expect(failed!.data).toMatchObject({ judge_id: judge, reason_code: 'INSUFFICIENT_FUNDS' });
  });
});

describe('campaign end', () => {
  it.each(['tasks.campaign.completed.v1', 'tasks.campaign.cancelled.v1'] as const)(
    'returns what is left of the budget to the company on %s',
    async (type) => {
      const { companyId, campaignId } = await t.fundedCampaign(100_000, 50_000);
      const approved = await t.approval({ campaignId, reward: 2_000 });
      await t.deliver('ledger-submissions', approved);
      const ended = foreign(type, { campaign_id: campaignId, company_id: companyId });
      await t.deliver('ledger-tasks', ended);
      const [returned] = await t.outcomes('ledger.campaign.budget-returned.v1', ended.id);
      expect(returned!.data).toEqual({
        campaign_id: campaignId,
        company_id: companyId,
        amount: usd(48_000),
        transfer_id: transferIds.campaignReturn(campaignId),
      });
      await t.projected();
      expect(await budget(campaignId)).toMatchObject({
        funded: 50_000,
        spent: 2_000,
        returned: 48_000,
        remaining: 0,
      });
      expect(await balance(accountIds.companyCredits(companyId))).toBe(45_000 + 48_000);
    },
  );

  it('returns once when a campaign is both completed and cancelled', async () => {
    const { companyId, campaignId } = await t.fundedCampaign(100_000, 30_000);
    const completed = foreign('tasks.campaign.completed.v1', {
      campaign_id: campaignId,
      company_id: companyId,
    });
    const cancelled = foreign('tasks.campaign.cancelled.v1', {
      campaign_id: campaignId,
      company_id: companyId,
    });
    await t.deliver('ledger-tasks', completed);
    await t.deliver('ledger-tasks', cancelled);
    await t.outcomes('ledger.campaign.budget-returned.v1', completed.id);
    await t.projected();
    const all = (await t.published('ledger.campaign.budget-returned.v1')).filter(
      (e) => e.data.campaign_id === campaignId,
    );
    expect(all).toHaveLength(1);
    expect(await balance(accountIds.companyCredits(companyId))).toBe(100_000 - 3_000);
  });

  it('returns nothing, and says so, for a campaign that was never funded', async () => {
    const campaignId = randomUUID();
    const ended = foreign('tasks.campaign.cancelled.v1', {
      campaign_id: campaignId,
      company_id: randomUUID(),
    });
    await t.deliver('ledger-tasks', ended);
    const [returned] = await t.outcomes('ledger.campaign.budget-returned.v1', ended.id);
    expect(returned!.data.amount).toEqual(usd(0));
  });
});

describe('withdrawals', () => {
  async function contributorWith(amount: number) {
    const { campaignId } = await t.fundedCampaign(1_000_000, 500_000);
    const userId = randomUUID();
    const approved = await t.approval({ campaignId, reward: amount, contributorId: userId });
    await t.deliver('ledger-submissions', approved);
    return userId;
  }
  const withdrawal = (userId: string, amount: number) => ({
    withdrawal_id: randomUUID(),
    user_id: userId,
    amount: usd(amount),
  });

  it('holds the amount, then settles it when payouts completes', async () => {
    const userId = await contributorWith(10_000);
    const data = withdrawal(userId, 6_000);
    const requested = foreign('payouts.withdrawal.requested.v1', data);
    await t.deliver('ledger-payouts', requested);
    const [placed] = await t.outcomes('ledger.withdrawal.hold-placed.v1', requested.id);
    expect(placed!.data).toEqual({ ...data, transfer_id: transferIds.withdrawal(data.withdrawal_id) });
    await t.projected();
    expect(await wallet(userId)).toMatchObject({ available: 4_000, held: 6_000, total_withdrawn: 0 });

    const completed = foreign('payouts.withdrawal.completed.v1', { ...data, provider: 'bank' });
    await t.deliver('ledger-payouts', completed);
    const [settled] = await t.outcomes('ledger.withdrawal.settled.v1', completed.id);
    expect(settled!.data).toEqual({ ...data, transfer_id: transferIds.withdrawal(data.withdrawal_id) });
    await t.projected();
    expect(await wallet(userId)).toMatchObject({
      available: 4_000,
      held: 0,
      total_earned: 10_000,
      total_withdrawn: 6_000,
    });
  });

  it.each([
    ['failed', 'PROVIDER_DECLINED'],
    ['rejected', 'fraud'],
    ['cancelled', 'cancelled'],
  ] as const)('releases the hold when the withdrawal %s', async (how, reason) => {
    const userId = await contributorWith(10_000);
    const data = withdrawal(userId, 6_000);
    await t.deliver('ledger-payouts', foreign('payouts.withdrawal.requested.v1', data));
    const ended =
      how === 'cancelled'
        ? foreign('payouts.withdrawal.cancelled.v1', data)
        : foreign(`payouts.withdrawal.${how}.v1`, { ...data, reason_code: reason });
    await t.deliver('ledger-payouts', ended);
    const [released] = await t.outcomes('ledger.withdrawal.hold-released.v1', ended.id);
    expect(released!.data).toEqual({
      ...data,
      transfer_id: transferIds.withdrawal(data.withdrawal_id),
      reason_code: reason,
    });
    await t.projected();
    expect(await wallet(userId)).toMatchObject({ available: 10_000, held: 0, total_withdrawn: 0 });
  });

  it('rejects a hold larger than the available balance; the withdrawal then ends without effect', async () => {
    const userId = await contributorWith(1_000);
    const data = withdrawal(userId, 1_001);
    const requested = foreign('payouts.withdrawal.requested.v1', data);
    await t.deliver('ledger-payouts', requested);
    const [rejected] = await t.outcomes('ledger.withdrawal.hold-rejected.v1', requested.id);
    expect(rejected!.data).toEqual({ ...data, reason_code: 'INSUFFICIENT_FUNDS' });

    const ended = foreign('payouts.withdrawal.rejected.v1', { ...data, reason_code: 'INSUFFICIENT_FUNDS' });
    await t.deliver('ledger-payouts', ended);
    await t.projected();
    expect(await t.published('ledger.withdrawal.hold-released.v1')).not.toContainEqual(
      expect.objectContaining({ causationid: ended.id }),
    );
    expect(await wallet(userId)).toMatchObject({ available: 1_000, held: 0 });
  });

  it('settles a completion that overtook its request, once the request is handled', async () => {
    const userId = await contributorWith(5_000);
    const data = withdrawal(userId, 5_000);
    const completed = foreign('payouts.withdrawal.completed.v1', { ...data, provider: 'bank' });
    const requested = foreign('payouts.withdrawal.requested.v1', data);
    await t.publish(completed);
    await t.publish(requested);
    await t.outcomes('ledger.withdrawal.settled.v1', completed.id);
    await t.projected();
    expect(await wallet(userId)).toMatchObject({ available: 0, held: 0, total_withdrawn: 5_000 });
  });

  it('places, as a replay, a hold appended before a crash that now uses the whole balance', async () => {
    // The process before the crash: it credited the user 100 and appended the hold, then died before
    // its handler committed. The running engine never held either.
    const before = createLedger(t.ledger.resources.store);
    const userId = randomUUID();
    const credited = await before.transfer([
      {
        id: randomUUID(),
        debit_account: accountIds.platformPromotions,
        credit_account: accountIds.userAvailable(userId),
        amount: 100,
        currency: 'USD',
        code: 'bonus',
      },
    ]);
    expect(credited.ok).toBe(true);
    const data = withdrawal(userId, 100);
    const transferId = transferIds.withdrawal(data.withdrawal_id);
    const held = await before.transfer([
      {
        id: transferId,
        debit_account: accountIds.userAvailable(userId),
        credit_account: accountIds.world,
        amount: 100,
        currency: 'USD',
        code: 'withdrawal',
        metadata: { withdrawal_id: data.withdrawal_id, user_id: userId },
        pending: { timeout_seconds: null },
      },
    ]);
    expect(held).toMatchObject({ ok: true, replayed: false });

    // Redelivered after the restart.
    const requested = foreign('payouts.withdrawal.requested.v1', data);
    await t.deliver('ledger-payouts', requested);
    expect(
      await t.written('ledger.withdrawal.hold-rejected.v1', 'withdrawal_id', data.withdrawal_id),
    ).toEqual([]);
    const [placed] = await t.outcomes('ledger.withdrawal.hold-placed.v1', requested.id);
    expect(placed!.data).toEqual({ ...data, transfer_id: transferId });
    await t.projected();
    expect(await transfersOf(transferId)).toBe(1);
    expect(await wallet(userId)).toMatchObject({ available: 0, held: 100 });
  });
});

describe('promotions', () => {
  it('pays bonuses and referral rewards from platform:promotions', async () => {
    const userId = randomUUID();
    const promotionsBefore = await balance(accountIds.platformPromotions);
    const bonus = foreign('engagement.bonus.awarded.v1', {
      bonus_id: randomUUID(),
      user_id: userId,
      amount: usd(500),
      reason_code: 'streak_7',
    });
    const referral = foreign('engagement.referral.rewarded.v1', {
      referral_id: randomUUID(),
      referrer_id: userId,
      referred_user_id: randomUUID(),
      amount: usd(300),
    });
    await t.deliver('ledger-engagement', bonus);
    await t.deliver('ledger-engagement', referral);
    const [bonusPaid] = await t.outcomes('ledger.promotion.paid.v1', bonus.id);
    const [referralPaid] = await t.outcomes('ledger.promotion.paid.v1', referral.id);
    expect(bonusPaid!.data).toEqual({
      user_id: userId,
      kind: 'bonus',
      source_id: bonus.data.bonus_id,
      amount: usd(500),
      transfer_id: transferIds.bonus(bonus.data.bonus_id),
    });
    expect(referralPaid!.data).toMatchObject({ kind: 'referral', source_id: referral.data.referral_id });
    await t.projected();
    expect(await wallet(userId)).toMatchObject({ available: 800, total_earned: 800 });
    // The promotions account is an expense: it runs a debit balance.
    expect(await balance(accountIds.platformPromotions)).toBe(promotionsBefore - 800);
  });
});

describe('company members', () => {
  it('follows identity, and an older event handled late never undoes a newer one', async () => {
    const companyId = randomUUID();
    const userId = randomUUID();
    const added = foreign('identity.company.member-added.v1', {
      company_id: companyId,
      user_id: userId,
      member_role: 'viewer',
    });
    const removed = foreign('identity.company.member-removed.v1', { company_id: companyId, user_id: userId });
    // Handled in the wrong order: the removal (newer) first, then the addition (older).
    await t.deliver('ledger-identity', { ...removed, time: new Date(Date.now() + 1_000).toISOString() });
    await t.deliver('ledger-identity', added);
    const row = await db()
      .selectFrom('company_members')
      .selectAll()
      .where('company_id', '=', companyId)
      .executeTakeFirstOrThrow();
    expect(row.removed).toBe(true);

    const readded = foreign('identity.company.member-added.v1', {
      company_id: companyId,
      user_id: userId,
      member_role: 'manager',
    });
    await t.deliver('ledger-identity', { ...readded, time: new Date(Date.now() + 2_000).toISOString() });
    expect(
      await db()
        .selectFrom('company_members')
        .selectAll()
        .where('company_id', '=', companyId)
        .executeTakeFirst(),
    ).toMatchObject({ removed: false, member_role: 'manager' });
  });
});

describe('exactly once', () => {
  it('moves money once and announces once when the same event is delivered twice', async () => {
    const { campaignId } = await t.fundedCampaign();
    const contributor = randomUUID();
    const approved = await t.approval({ campaignId, reward: 900, contributorId: contributor });
    // Two messages with one event (a producer that re-sent it after the de-duplication window).
    await t.publish(approved, 'copy-1');
    await t.publish(approved, 'copy-2');
    const marker = foreign(
      'submissions.submission.approved.v1',
      await t.underClaim({
        ...approved.data,
        submission_id: randomUUID(),
        contributor_id: randomUUID(),
      }),
    );
    await t.deliver('ledger-submissions', marker);
    await t.outcomes('ledger.reward.paid.v1', marker.id);
    await t.projected();
    expect(await t.published('ledger.reward.paid.v1')).toSatisfy(
      (events: { causationid?: string }[]) =>
        events.filter((e) => e.causationid === approved.id).length === 1,
    );
    expect(await wallet(contributor)).toMatchObject({ available: 900 });
    expect(await budget(campaignId)).toMatchObject({ spent: 1_800, remaining: 48_200 });
  });

  it('moves money once when the same funding request is delivered twice', async () => {
    const { companyId, request } = await t.fundedCampaign(100_000, 50_000);
    await t.publish(request, 'again');
    const marker = foreign('tasks.campaign.completed.v1', {
      campaign_id: randomUUID(),
      company_id: companyId,
    });
    await t.deliver('ledger-tasks', marker);
    await t.projected();
    expect(await balance(accountIds.companyCredits(companyId))).toBe(45_000);
    expect(
      (await t.published('ledger.campaign.funded.v1')).filter((e) => e.causationid === request.id),
    ).toHaveLength(1);
  });

  it('replays, rather than repeats, a transfer recorded before a crash lost the handler commit', async () => {
    const { campaignId } = await t.fundedCampaign();
    const contributor = randomUUID();
    const approved = await t.approval({ campaignId, reward: 700, contributorId: contributor });
    // What the handler appends before its transaction commits; the process then "died".
    const first = await t.ledger.resources.engine.transfer([
      {
        id: transferIds.reward(approved.data.submission_id),
        debit_account: accountIds.campaignBudget(campaignId),
        credit_account: accountIds.userAvailable(contributor),
        amount: 700,
        currency: 'USD',
        code: 'reward',
        metadata: {
          submission_id: approved.data.submission_id,
          task_id: approved.data.task_id,
          campaign_id: campaignId,
          contributor_id: contributor,
        },
      },
    ]);
    expect(first.ok).toBe(true);
    expect(await t.published('ledger.reward.paid.v1')).not.toContainEqual(
      expect.objectContaining({ causationid: approved.id }),
    );

    // Redelivered after the restart: the engine replays the recorded transfer.
    await t.deliver('ledger-submissions', approved);
    const [paid] = await t.outcomes('ledger.reward.paid.v1', approved.id);
    expect(paid!.data.transfer_id).toBe(transferIds.reward(approved.data.submission_id));
    await t.projected();
    expect(await transfersOf(transferIds.reward(approved.data.submission_id))).toBe(1);
    expect(await wallet(contributor)).toMatchObject({ available: 700 });
    expect(await budget(campaignId)).toMatchObject({ spent: 700, remaining: 49_300 });
  });

  it('does not apply an effect twice when the consumer dies after commit and before ack', async () => {
    const userId = randomUUID();
    const bonus = foreign('engagement.bonus.awarded.v1', {
      bonus_id: randomUUID(),
      user_id: userId,
      amount: usd(123),
      reason_code: 'mission',
    });
    // The kit's consumer, restarted: a message committed but never acked is delivered again.
    const consumer = t.ledger.consumers.find((c) => c.name === 'ledger-engagement')!;
    await t.publish(bonus);
    await t.outcomes('ledger.promotion.paid.v1', bonus.id);
    const handler = consumer.handlerFor(bonus.type)!;
    expect(await consumer.apply(bonus, handler)).toBe(false);
    await t.projected();
    expect(await wallet(userId)).toMatchObject({ available: 123 });
  });
});
