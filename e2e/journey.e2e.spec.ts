import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayClient, show, usd } from './client.ts';
import { journeyActors, type Session } from './journey/actors.ts';
import { e2eAdmin, type Platform, startPlatform } from './platform.ts';

// The platform as its users meet it, through the gateway only, and then every cent accounted for
// through the APIs alone: a company funds a campaign; contributors hand in recordings; three judges
// approve one and reject another; pre-validation refuses a silent one; five judges split on a
// fourth, which an admin decides; the ledger pays each reward and every counted review's fee; a
// rewarded contributor withdraws part of it; engagement counts the approved work.

let platform: Platform;
const client = gatewayClient(() => platform);
const { call, waitFor, logIn } = client;
const actors = journeyActors(client, () => platform.baseUrl);

const CREDITS = 10_000;
const BUDGET = 5_000;
const FEE = 500; // PLATFORM_FEE_BPS 1000: 10% of the budget, on top of it
const REWARD = 800;
const JUDGE_FEE = 20;
const XP = 150;
const WITHDRAWN = 600;

beforeAll(async () => {
  platform = await startPlatform(120_000);
  for (const path of [
    '/api/v1/campaigns',
    '/api/v1/wallet',
    '/api/v1/submissions/me',
    '/api/v1/withdrawals/me',
  ]) {
    await waitFor(`${path} did not answer through the gateway`, 60_000, async () =>
      (await fetch(`${platform.baseUrl}${path}`)).status === 401 ? true : undefined,
    );
  }
});

afterAll(async () => {
  await platform?.stop();
});

/** A statement line as the ledger answers it. */
interface Line {
  transfer_id: string;
  code: string;
  direction: 'debit' | 'credit';
  phase: string;
  amount: { amount: number; currency: string };
  metadata: Record<string, string>;
}

async function statement(user: Session): Promise<Line[]> {
  const reply = await call('GET', '/api/v1/wallet/transactions?limit=200', { token: user.token });
  expect(reply.status, show(reply)).toBe(200);
  return reply.body.items as Line[];
}

async function wallet(user: Session) {
  const reply = await call('GET', '/api/v1/wallet', { token: user.token });
  expect(reply.status, show(reply)).toBe(200);
  return reply.body as Record<string, { amount: number }>;
}

async function revenue(admin: Session): Promise<{ revenue: number; balanced: boolean }> {
  const reply = await call('GET', '/api/v1/admin/ledger/summary', { token: admin.token });
  expect(reply.status, show(reply)).toBe(200);
  return { revenue: reply.body.revenue.amount as number, balanced: reply.body.balanced as boolean };
}

describe('the whole journey, every cent accounted for', () => {
  it('funds, claims, hands in, judges, pays, withdraws; then the money, XP and notifications add up', async () => {
    const admin = { ...(await logIn(e2eAdmin.email, e2eAdmin.password)), email: e2eAdmin.email };
    const revenueBefore = await revenue(admin);

    // The company and its campaign.
    const manager = await actors.signUp('company', 'manager');
    const companyId = await actors.fundedCompany(manager, admin, CREDITS);
    const campaignId = await actors.activeCampaign(manager, companyId, BUDGET);
    const taskId = await actors.audioTask(manager, campaignId, {
      reward: REWARD,
      judgeFee: JUDGE_FEE,
      xp: XP,
    });

    // Two contributors hand in recordings; three appointed judges review both.
    const good = await actors.signUp('contributor', 'good');
    const poor = await actors.signUp('contributor', 'poor');
    const approvedId = await actors.handInRecording(good, taskId);
    const rejectedId = await actors.handInRecording(poor, taskId);
    const judges: Session[] = [];
    for (const label of ['judge-a', 'judge-b', 'judge-c']) {
      const judge = await actors.signUp('contributor', label);
      const appointed = await call('POST', '/api/v1/admin/judges', {
        token: admin.token,
        body: { user_id: judge.userId },
      });
      expect(appointed.status, show(appointed)).toBe(200);
      judges.push(judge);
    }
    const verdictFor = (submissionId: string) => (submissionId === approvedId ? 'approve' : 'reject');
    for (const judge of judges) {
      expect((await actors.judgeReviews(judge, [approvedId, rejectedId], verdictFor)).sort()).toEqual(
        [approvedId, rejectedId].sort(),
      );
    }
    for (const [user, id, status] of [
      [good, approvedId, 'approved'],
      [poor, rejectedId, 'rejected'],
    ] as const) {
      await waitFor(`submission ${id} never became ${status}`, 30_000, async () => {
        const reply = await call('GET', `/api/v1/submissions/${id}`, { token: user.token });
        return reply.body.submission?.status === status ? true : undefined;
      });
    }

    // A silent recording: pre-validation refuses it before any judge sees it; nothing is paid.
    const silentContributor = await actors.signUp('contributor', 'silent');
    const refusedId = await actors.handInRecording(silentContributor, taskId, {
      silent: true,
      expect: 'rejected',
    });
    // Refused at screening, so no judge ever leased it: only the others' cases were offered.
    const screened = await call('GET', `/api/v1/submissions/${refusedId}`, {
      token: silentContributor.token,
    });
    expect(screened.body.submission, show(screened)).toMatchObject({ status: 'rejected' });

    // A split: two more judges, and five votes that cannot agree (3 approve, 2 reject, in an order
    // that asks for one more judge twice), so the case goes to the admin, who approves it.
    for (const label of ['judge-d', 'judge-e']) {
      const judge = await actors.signUp('contributor', label);
      const appointed = await call('POST', '/api/v1/admin/judges', {
        token: admin.token,
        body: { user_id: judge.userId },
      });
      expect(appointed.status, show(appointed)).toBe(200);
      judges.push(judge);
    }
    const split = await actors.signUp('contributor', 'split');
    const splitId = await actors.handInRecording(split, taskId);
    const splitVotes = ['approve', 'reject', 'approve', 'reject', 'approve'] as const;
    for (const [index, verdict] of splitVotes.entries())
      await actors.reviewOnce(judges[index]!, splitId, verdict);
    await actors.decideEscalation(admin, splitId, 'approve');
    await waitFor('the split was never approved', 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${splitId}`, { token: split.token });
      return reply.body.submission?.status === 'approved' ? true : undefined;
    });

    // The rewards and the eleven counted reviews' fees are paid; then a rewarded contributor withdraws.
    await waitFor('the reward never reached the wallet', 30_000, async () =>
      (await wallet(good)).available?.amount === REWARD ? true : undefined,
    );
    const withdrawalId = await actors.withdraw(good, admin, WITHDRAWN);

    // ---- every cent, through the APIs only ----
    // The company: credits = top-ups − budgets − fees + returned budget (none: the campaign runs on).
    const credits = await call('GET', `/api/v1/companies/${companyId}/credits`, { token: manager.token });
    expect(credits.body.available, show(credits)).toEqual(usd(CREDITS - BUDGET - FEE));
    // The campaign's escrow paid exactly the reward and the fees, and holds nothing for open claims.
    const budget = await waitFor('the budget never settled', 30_000, async () => {
      const reply = await call('GET', `/api/v1/campaigns/${campaignId}/budget`, { token: manager.token });
      return reply.body.remaining?.amount === BUDGET - 2 * REWARD - 11 * JUDGE_FEE ? reply : undefined;
    });
    expect(budget.body.funded).toEqual(usd(BUDGET));

    // The contributors: rewards of their approved work + bonuses − withdrawals.
    const paid = await waitFor('the withdrawal never showed in the wallet', 30_000, async () => {
      const w = await wallet(good);
      return w.total_withdrawn?.amount === WITHDRAWN ? w : undefined;
    });
    expect(paid).toMatchObject({
      available: usd(REWARD - WITHDRAWN),
      held: usd(0),
      total_earned: usd(REWARD),
      total_withdrawn: usd(WITHDRAWN),
    });
    expect(await wallet(poor)).toMatchObject({ available: usd(0), total_earned: usd(0) });
    expect(await wallet(silentContributor)).toMatchObject({ available: usd(0), total_earned: usd(0) });
    const splitWallet = await waitFor('the split reward never arrived', 30_000, async () => {
      const w = await wallet(split);
      return w.available?.amount === REWARD ? w : undefined;
    });
    expect(splitWallet.total_earned).toEqual(usd(REWARD));

    // The judges: the fees of their counted reviews. The first three reviewed all three cases, the
    // last two the split alone; every review of an escalated case counts once the admin decides.
    const reviewsBy = [3, 3, 3, 1, 1];
    for (const [index, judge] of judges.entries()) {
      const earned = reviewsBy[index]! * JUDGE_FEE;
      const fees = await waitFor("a judge's fees never arrived", 30_000, async () => {
        const w = await wallet(judge);
        return w.available?.amount === earned ? w : undefined;
      });
      expect(fees.total_earned).toEqual(usd(earned));
    }

    // The platform: revenue grew by the fee alone, and the ledger balances.
    const revenueAfter = await revenue(admin);
    expect(revenueAfter.revenue - revenueBefore.revenue).toBe(FEE);
    expect(revenueAfter.balanced).toBe(true);

    // Every statement line names its cause, so a contributor can trace every cent.
    const goodLines = await statement(good);
    const reward = goodLines.filter((l) => l.code === 'reward');
    expect(reward.map((l) => [l.direction, l.amount.amount, l.metadata.submission_id])).toEqual([
      ['credit', REWARD, approvedId],
    ]);
    const withdrawal = goodLines.filter((l) => l.metadata.withdrawal_id === withdrawalId);
    expect(withdrawal.length).toBeGreaterThan(0);
    expect(withdrawal.every((l) => l.direction === 'debit' && l.amount.amount === WITHDRAWN)).toBe(true);
    expect(
      goodLines.every((l) => l.code === 'reward' || l.metadata.withdrawal_id === withdrawalId),
      JSON.stringify(goodLines),
    ).toBe(true);
    expect(await statement(poor)).toEqual([]);
    expect(await statement(silentContributor)).toEqual([]);
    const splitLines = await statement(split);
    expect(splitLines.map((l) => [l.code, l.amount.amount, l.metadata.submission_id])).toEqual([
      ['reward', REWARD, splitId],
    ]);
    for (const [index, judge] of judges.entries()) {
      const lines = await statement(judge);
      const judged = index < 3 ? [approvedId, rejectedId, splitId] : [splitId];
      expect(
        lines.map((l) => [l.code, l.direction, l.amount.amount, l.metadata.submission_id]).sort(),
      ).toEqual(judged.map((id) => ['judge_fee', 'credit', JUDGE_FEE, id]).sort());
      expect(lines.every((l) => /^[0-9a-f-]{36}$/.test(l.metadata.review_id ?? ''))).toBe(true);
    }

    // XP and badges match the approved work: the task's XP and the first_task badge's 25, for the
    // approved contributor alone.
    const progress = await waitFor('engagement never counted the approval', 30_000, async () => {
      const reply = await call('GET', '/api/v1/me/progress', { token: good.token });
      return reply.body.xp === XP + 25 ? reply : undefined;
    });
    expect(progress.body.badges.map((b: { code: string }) => b.code)).toContain('first_task');
    const poorProgress = await call('GET', '/api/v1/me/progress', { token: poor.token });
    expect(poorProgress.body.xp, show(poorProgress)).toBe(0);

    // Notifications arrived for each verdict.
    for (const [user, id] of [
      [good, approvedId],
      [poor, rejectedId],
    ] as const) {
      await waitFor(`no notification of ${id}`, 30_000, async () => {
        const reply = await call('GET', '/api/v1/notifications', { token: user.token });
        return reply.body.notifications?.some(
          (n: { data?: { submission_id?: string } }) => n.data?.submission_id === id,
        )
          ? true
          : undefined;
      });
    }
  });
});
