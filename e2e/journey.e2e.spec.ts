import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { gatewayClient, show, usd } from './client.ts';
import { journeyActors, type Session } from './journey/actors.ts';
import { photo, thumbnail, workContent, writing, type WorkKind } from './journey/work.ts';
import { bundleContents } from './journey/zip.ts';
import { e2eAdmin, type Platform, sharedPlatform } from './platform.ts';

// The platform as its users meet it, through the gateway only, and then every cent accounted for
// through the APIs alone: a company funds a campaign; contributors hand in recordings; three judges
// approve one and reject another; pre-validation refuses a silent one; five judges split on a
// fourth, which an admin decides; review asks for a revision, which is approved; the ledger pays each reward and every counted review's fee; a
// rewarded contributor withdraws part of it; an admin's bonus; an appeal overturns the rejection;
// engagement counts the approved work; the company downloads the approved work as a dataset
// bundle; the auditor's replay of the ledger passes.

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

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
const BONUS = 250;

beforeAll(async () => {
  platform = await sharedPlatform();
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

/** A statement line as the ledger answers it. */
interface Line {
  transfer_id: string;
  code: string;
  direction: 'debit' | 'credit';
  phase: string;
  amount: { amount: number; currency: string };
  metadata: Record<string, string>;
  cause: { kind: string; description: string; verdict?: string; [id: string]: string | undefined };
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

/** The auditor's replay of the ledger's whole stream agrees (the CLI, on the ledger's database). */
async function expectAuditPasses(): Promise<void> {
  const ledgerDb = new URL(inject('postgresUrl'));
  ledgerDb.pathname = '/tessera_ledger';
  const audit = await run(
    process.execPath,
    ['--import', 'tsx', 'services/ledger/scripts/audit.ts', 'verify', '--database-url', ledgerDb.toString()],
    { cwd: repoRoot, maxBuffer: 16 * 2 ** 20 },
  ).catch((error: { stdout?: string; stderr?: string }) => ({
    stdout: error.stdout ?? '',
    stderr: error.stderr ?? '',
  }));
  expect(audit.stdout, audit.stderr).toMatch(/PASSED: 0 failed checks/);
}

/** The XP a badge adds (services/engagement/src/badges/tables.ts: the defaults). */
const BADGE_XP: Record<string, number> = { first_task: 25, ten_tasks: 50, trusted: 150, earner: 100 };
/** The level `xp` reaches: level n takes ⌈100·(n−1)^1.5⌉ cumulative XP (engagement's curve). */
const levelOf = (xp: number) => {
  let level = 1;
  while (xp >= Math.ceil(100 * level ** 1.5)) level += 1;
  return level;
};

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
    expect(screened.body.submission, show(screened)).toMatchObject({
      status: 'rejected',
      reason_codes: ['AUDIO_MOSTLY_SILENT'],
    });

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

    // A revision: the first three judges ask for one, the contributor hands in a new recording under
    // the same claim, and the same judges approve it.
    const reviser = await actors.signUp('contributor', 'reviser');
    const revisedId = await actors.handInRecording(reviser, taskId);
    for (const judge of judges.slice(0, 3)) await actors.reviewOnce(judge, revisedId, 'revision');
    await waitFor('review never asked for a revision', 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${revisedId}`, { token: reviser.token });
      return reply.body.submission?.status === 'revision_requested' ? true : undefined;
    });
    await actors.handInRevision(reviser, revisedId);
    for (const judge of judges.slice(0, 3)) await actors.reviewOnce(judge, revisedId, 'approve');
    await waitFor('the revision was never approved', 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${revisedId}`, { token: reviser.token });
      return reply.body.submission?.status === 'approved' ? true : undefined;
    });

    // An admin's bonus to the approved contributor, and the rejected one's appeal, which the admin
    // overturns: the work is approved and paid (its judges are not paid again).
    const bonus = await call('POST', '/api/v1/admin/ledger/adjustments', {
      token: admin.token,
      key: `journey-bonus-${good.userId}`,
      body: { user_id: good.userId, kind: 'bonus', amount: usd(BONUS), reason: 'journey: steady work' },
    });
    expect(bonus.status, show(bonus)).toBe(201);
    await actors.appealDecided(poor, admin, rejectedId, 'approve');
    await waitFor('the appeal never approved the work', 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${rejectedId}`, { token: poor.token });
      return reply.body.submission?.status === 'approved' ? true : undefined;
    });

    // The rewards and the eleven counted reviews' fees are paid; then a rewarded contributor withdraws.
    await waitFor('the reward never reached the wallet', 30_000, async () =>
      (await wallet(good)).available?.amount === REWARD + BONUS ? true : undefined,
    );
    const withdrawalId = await actors.withdraw(good, admin, WITHDRAWN);

    // ---- every cent, through the APIs only ----
    // The company: credits = top-ups − budgets − fees + returned budget (none: the campaign runs on).
    const credits = await call('GET', `/api/v1/companies/${companyId}/credits`, { token: manager.token });
    expect(credits.body.available, show(credits)).toEqual(usd(CREDITS - BUDGET - FEE));
    // The campaign's escrow paid exactly the reward and the fees, and holds nothing for open claims.
    // Fourteen fees, not seventeen: the ledger pays one fee per (claim, judge), so the judges who
    // reviewed both rounds of the revision are paid for one (services/ledger/README.md).
    const settledRemaining = BUDGET - 4 * REWARD - 14 * JUDGE_FEE;
    let remaining: number | undefined;
    const budget = await waitFor('the budget never settled', 30_000, async () => {
      const reply = await call('GET', `/api/v1/campaigns/${campaignId}/budget`, { token: manager.token });
      remaining = reply.body.remaining?.amount;
      return remaining === settledRemaining ? reply : undefined;
    }).catch(() => {
      throw new Error(`campaign remaining ${remaining}, expected ${settledRemaining}`);
    });
    expect(budget.body.funded).toEqual(usd(BUDGET));

    // The contributors: rewards of their approved work + bonuses − withdrawals.
    const paid = await waitFor('the withdrawal never showed in the wallet', 30_000, async () => {
      const w = await wallet(good);
      return w.total_withdrawn?.amount === WITHDRAWN ? w : undefined;
    });
    expect(paid).toMatchObject({
      available: usd(REWARD + BONUS - WITHDRAWN),
      held: usd(0),
      total_earned: usd(REWARD + BONUS),
      total_withdrawn: usd(WITHDRAWN),
    });
    const overturned = await waitFor('the overturned reward never arrived', 30_000, async () => {
      const w = await wallet(poor);
      return w.available?.amount === REWARD ? w : undefined;
    });
    expect(overturned.total_earned).toEqual(usd(REWARD));
    expect(await wallet(silentContributor)).toMatchObject({ available: usd(0), total_earned: usd(0) });
    const splitWallet = await waitFor('the split reward never arrived', 30_000, async () => {
      const w = await wallet(split);
      return w.available?.amount === REWARD ? w : undefined;
    });
    expect(splitWallet.total_earned).toEqual(usd(REWARD));

    // The judges: the fees of their counted reviews, one per claim. The first three reviewed every
    // case (the revision twice, paid once), the last two the split alone; every review of an
    // escalated case counts once the admin decides.
    const reviewsBy = [4, 4, 4, 1, 1];
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
    // In words: the submission and how its verdict was reached; each withdrawal line, where it stands.
    expect(reward[0]!.cause).toMatchObject({
      kind: 'reward',
      submission_id: approvedId,
      verdict: 'consensus',
    });
    expect(reward[0]!.cause.description).toContain('the judges agreed');
    expect(
      goodLines
        .filter((l) => l.code === 'withdrawal')
        .map((l) => [l.cause.kind, l.cause.withdrawal_id, l.phase]),
    ).toEqual(expect.arrayContaining([['withdrawal', withdrawalId, 'posted']]));
    const withdrawal = goodLines.filter((l) => l.metadata.withdrawal_id === withdrawalId);
    expect(withdrawal.length).toBeGreaterThan(0);
    expect(withdrawal.every((l) => l.direction === 'debit' && l.amount.amount === WITHDRAWN)).toBe(true);
    const bonusLines = goodLines.filter((l) => l.code === 'bonus');
    expect(
      bonusLines.map((l) => [l.direction, l.amount.amount, l.metadata.origin, l.metadata.reason]),
    ).toEqual([['credit', BONUS, 'adjustment', 'journey: steady work']]);
    expect(bonusLines[0]!.cause).toMatchObject({ kind: 'bonus', description: 'Bonus: journey: steady work' });
    // Which admin recorded it is the platform's business, not the contributor's.
    expect(bonusLines[0]!.metadata).not.toHaveProperty('recorded_by');
    expect(
      goodLines.every(
        (l) => ['reward', 'bonus'].includes(l.code) || l.metadata.withdrawal_id === withdrawalId,
      ),
      JSON.stringify(goodLines),
    ).toBe(true);
    // The overturned rejection: its reward, naming the work and the appeal.
    expect(
      (await statement(poor)).map((l) => [l.code, l.amount.amount, l.cause.submission_id, l.cause.verdict]),
    ).toEqual([['reward', REWARD, rejectedId, 'appeal']]);
    expect(await statement(silentContributor)).toEqual([]);
    expect(
      (await statement(reviser)).map((l) => [l.code, l.amount.amount, l.metadata.submission_id]),
    ).toEqual([['reward', REWARD, revisedId]]);
    const splitLines = await statement(split);
    expect(splitLines.map((l) => [l.code, l.amount.amount, l.cause.submission_id, l.cause.verdict])).toEqual([
      ['reward', REWARD, splitId, 'admin'],
    ]);
    for (const [index, judge] of judges.entries()) {
      const lines = await statement(judge);
      const judged = index < 3 ? [approvedId, rejectedId, splitId, revisedId] : [splitId];
      expect(
        lines.map((l) => [l.code, l.direction, l.amount.amount, l.metadata.submission_id]).sort(),
      ).toEqual(judged.map((id) => ['judge_fee', 'credit', JUDGE_FEE, id]).sort());
      expect(lines.every((l) => /^[0-9a-f-]{36}$/.test(l.metadata.review_id ?? ''))).toBe(true);
      expect(
        lines.every((l) => l.cause.kind === 'judge_fee' && l.cause.review_id === l.metadata.review_id),
      ).toBe(true);
    }

    // XP and badges match the approved work: the task's XP and the first_task badge's 25 for each
    // contributor whose work was approved (the overturned one too), none for the refused one.
    const progress = await waitFor('engagement never counted the approval', 30_000, async () => {
      const reply = await call('GET', '/api/v1/me/progress', { token: good.token });
      return reply.body.xp === XP + 25 ? reply : undefined;
    });
    expect(progress.body.badges.map((b: { code: string }) => b.code)).toContain('first_task');
    await waitFor('engagement never counted the overturned work', 30_000, async () => {
      const reply = await call('GET', '/api/v1/me/progress', { token: poor.token });
      return reply.body.xp === XP + 25 ? true : undefined;
    });
    const refusedProgress = await call('GET', '/api/v1/me/progress', { token: silentContributor.token });
    expect(refusedProgress.body.xp, show(refusedProgress)).toBe(0);

    // Notifications arrived for each step: verdicts, money, the withdrawal, the badge and the level.
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
    const expectedKinds: [Session, string[]][] = [
      [
        good,
        [
          'submission_approved',
          'money_received',
          'withdrawal_approved',
          'withdrawal_completed',
          'badge_unlocked',
          'level_changed',
        ],
      ],
      [poor, ['submission_rejected', 'submission_approved', 'money_received']],
      [reviser, ['submission_revision_requested', 'submission_approved', 'money_received']],
      [silentContributor, ['submission_rejected']],
      [judges[0]!, ['money_received']],
    ];
    for (const [user, kinds] of expectedKinds) {
      let got: string[] = [];
      await waitFor(`notifications of ${user.email}`, 30_000, async () => {
        const reply = await call('GET', '/api/v1/notifications?limit=100', { token: user.token });
        got = ((reply.body.notifications ?? []) as { kind: string }[]).map((n) => n.kind);
        return kinds.every((kind) => got.includes(kind)) ? true : undefined;
      }).catch(() => {
        throw new Error(`${user.email} got ${JSON.stringify(got)}, expected ${JSON.stringify(kinds)}`);
      });
    }
    // The refused recording was never approved, paid or counted.
    const refusedNotes = await call('GET', '/api/v1/notifications?limit=100', {
      token: silentContributor.token,
    });
    expect(
      (refusedNotes.body.notifications as { kind: string }[]).map((n) => n.kind),
      show(refusedNotes),
    ).toEqual(['submission_rejected']);

    // The company freezes its approved work into a dataset bundle and downloads it: the four
    // approved submissions (the overturned one too), not the refused one.
    const bundle = bundleContents(await actors.downloadBundle(manager, campaignId));
    expect(bundle.submissionIds.sort()).toEqual([approvedId, splitId, revisedId, rejectedId].sort());
    expect(bundle.media).toHaveLength(4);

    await expectAuditPasses();
  });

  it('a second company: a member, an API key, every task type, a golden task and a private campaign, every cent', async () => {
    const admin = { ...(await logIn(e2eAdmin.email, e2eAdmin.password)), email: e2eAdmin.email };
    const revenueBefore = await revenue(admin);
    const CREDITS2 = 20_000;
    const [PUBLIC, PRIVATE] = [6_000, 2_000];
    const FEES2 = (PUBLIC + PRIVATE) / 10;
    const terms: Record<WorkKind, { reward: number; xp: number }> = {
      photo: { reward: 300, xp: 30 },
      labels: { reward: 120, xp: 10 },
      writing: { reward: 400, xp: 40 },
      meaning: { reward: 150, xp: 15 },
      comparison: { reward: 250, xp: 25 },
      golden: { reward: 90, xp: 10 },
      'private-writing': { reward: 500, xp: 50 },
    };

    // The company, a viewer who joins by invitation, and an API key that may only read campaigns.
    const manager = await actors.signUp('company', 'second-manager');
    const companyId = await actors.fundedCompany(manager, admin, CREDITS2);
    const viewer = await actors.signUp('company', 'second-viewer');
    await actors.addMember(manager, companyId, viewer, 'viewer');
    const publicId = await actors.activeCampaign(manager, companyId, PUBLIC, 50, {
      name: 'Journey mixed work',
      description: 'Photos, labels, writing, meaning, comparisons',
    });
    const privateId = await actors.activeCampaign(manager, companyId, PRIVATE, 10, {
      name: 'Journey invited writers',
      description: 'Writing by invitation',
      isPrivate: true,
    });
    const viewerCampaign = await call('POST', '/api/v1/campaigns', {
      token: viewer.token,
      body: { company_id: companyId, name: 'Not mine to make', budget: usd(100), target_count: 1 },
    });
    expect(viewerCampaign.status, show(viewerCampaign)).toBe(403);
    const keyToken = await actors.apiKeyToken(manager, companyId, ['campaigns:read']);
    const byKey = await waitFor('tasks never admitted the API key', 30_000, async () => {
      const reply = await call('GET', `/api/v1/campaigns/${publicId}`, { token: keyToken });
      return reply.status === 200 ? reply : undefined;
    });
    expect(byKey.body.campaign).toMatchObject({ id: publicId, status: 'active' });
    const keyWrites = await call('POST', `/api/v1/campaigns/${publicId}/pause`, { token: keyToken });
    expect(keyWrites.status, show(keyWrites)).toBe(403);

    const tasks = {} as Record<WorkKind, string>;
    for (const kind of Object.keys(terms) as WorkKind[]) {
      tasks[kind] = await actors.publishTask(
        manager,
        kind === 'private-writing' ? privateId : publicId,
        workContent[kind],
        { ...terms[kind], judgeFee: JUDGE_FEE },
      );
    }

    // One contributor does every kind of public work; the golden task is decided at once.
    const maker = await actors.signUp('contributor', 'maker');
    const work: Partial<Record<WorkKind, string>> = {};
    work.photo = await actors.handIn(maker, tasks.photo, async () => ({
      media_id: await actors.upload(maker, await photo(), 'image/png', 'sign.png'),
    }));
    work.labels = await actors.handIn(maker, tasks.labels, async () => ({ labels: ['dog'] }));
    work.writing = await actors.handIn(maker, tasks.writing, async () => ({ text: writing() }));
    work.meaning = await actors.handIn(maker, tasks.meaning, async () => ({ option: 'good luck' }));
    work.comparison = await actors.handIn(maker, tasks.comparison, async () => ({
      preferred: 'a',
      ratings: { helpfulness: 6, honesty: 7 },
      rationale: 'A explains the water cycle; B is not an answer.',
    }));
    work.golden = await actors.handIn(maker, tasks.golden, async () => ({ option: 'yes' }), 'approved');

    // A second is refused the private campaign until invited, then writes for it; a thumbnail
    // photo of theirs is refused at screening. A third answers the golden task wrongly.
    const invited = await actors.signUp('contributor', 'invited');
    const refusal = await waitFor(
      'the private task was never refused for the invitation',
      30_000,
      async () => {
        const reply = await call('POST', `/api/v1/tasks/${tasks['private-writing']}/claim`, {
          token: invited.token,
        });
        return JSON.stringify(reply.body.reasons) === '["NOT_INVITED"]' ? reply : undefined;
      },
    );
    expect(refusal.status, show(refusal)).toBe(403);
    await actors.inviteToCampaign(manager, privateId, [invited]);
    work['private-writing'] = await actors.handIn(invited, tasks['private-writing'], async () => ({
      text: writing(),
    }));
    const tooSmall = await actors.handIn(
      invited,
      tasks.photo,
      async () => ({ media_id: await actors.upload(invited, await thumbnail(), 'image/png', 'thumb.png') }),
      'rejected',
    );
    const guesser = await actors.signUp('contributor', 'guesser');
    const mismatch = await actors.handIn(guesser, tasks.golden, async () => ({ option: 'no' }), 'rejected');
    for (const [user, id, reason] of [
      [invited, tooSmall, 'IMAGE_TOO_SMALL'],
      [guesser, mismatch, 'GOLDEN_MISMATCH'],
    ] as const) {
      const reply = await call('GET', `/api/v1/submissions/${id}`, { token: user.token });
      expect(reply.body.submission.reason_codes, show(reply)).toContain(reason);
    }

    // Three new judges review every piece of judged work, type by type, and approve it.
    const judged: WorkKind[] = ['photo', 'labels', 'writing', 'meaning', 'comparison', 'private-writing'];
    const judges: Session[] = [];
    for (const label of ['judge-f', 'judge-g', 'judge-h']) {
      const judge = await actors.signUp('contributor', label);
      await actors.appointJudge(admin, judge);
      judges.push(judge);
    }
    for (const judge of judges) {
      for (const type of ['image', 'text', 'linguasense', 'rlhf'] as const) {
        const ids = judged.filter((k) => workContent[k].task_type === type).map((k) => work[k]!);
        await actors.judgeReviews(judge, ids, () => 'approve', undefined, type);
      }
    }
    for (const kind of judged) {
      const owner = kind === 'private-writing' ? invited : maker;
      await waitFor(`the ${kind} was never approved`, 30_000, async () => {
        const reply = await call('GET', `/api/v1/submissions/${work[kind]}`, { token: owner.token });
        return reply.body.submission?.status === 'approved' ? true : undefined;
      });
    }

    // ---- every cent ----
    // The company: credits = top-up − both budgets − the fees (+ returned budget, below); its viewer
    // reads the same figure.
    for (const reader of [manager, viewer]) {
      const credits = await call('GET', `/api/v1/companies/${companyId}/credits`, { token: reader.token });
      expect(credits.body.available, show(credits)).toEqual(usd(CREDITS2 - PUBLIC - PRIVATE - FEES2));
    }
    // Each campaign paid exactly its approved work and the fees of the judged part.
    const makerKinds: WorkKind[] = ['photo', 'labels', 'writing', 'meaning', 'comparison', 'golden'];
    const makerEarned = makerKinds.reduce((sum, k) => sum + terms[k].reward, 0);
    for (const [campaignId, expected] of [
      [publicId, PUBLIC - makerEarned - 5 * 3 * JUDGE_FEE],
      [privateId, PRIVATE - terms['private-writing'].reward - 3 * JUDGE_FEE],
    ] as const) {
      let remaining: number | undefined;
      await waitFor(`campaign ${campaignId} never settled`, 30_000, async () => {
        const reply = await call('GET', `/api/v1/campaigns/${campaignId}/budget`, { token: manager.token });
        remaining = reply.body.remaining?.amount;
        return remaining === expected ? true : undefined;
      }).catch(() => {
        throw new Error(`campaign ${campaignId} remaining ${remaining}, expected ${expected}`);
      });
    }
    // The private campaign is complete: what it did not spend returns to the company's credits.
    const completed = await call('POST', `/api/v1/campaigns/${privateId}/complete`, { token: manager.token });
    expect(completed.status, show(completed)).toBe(200);
    const returned = PRIVATE - terms['private-writing'].reward - 3 * JUDGE_FEE;
    let available: number | undefined;
    await waitFor('the unspent budget never returned', 30_000, async () => {
      const credits = await call('GET', `/api/v1/companies/${companyId}/credits`, { token: viewer.token });
      available = credits.body.available?.amount;
      return available === CREDITS2 - PUBLIC - PRIVATE - FEES2 + returned ? true : undefined;
    }).catch(() => {
      throw new Error(`credits ${available}, expected ${CREDITS2 - PUBLIC - PRIVATE - FEES2 + returned}`);
    });
    // Contributors: the rewards of their approved work, nothing for refused work; each line names it.
    for (const [user, kinds] of [
      [maker, makerKinds],
      [invited, ['private-writing']],
      [guesser, []],
    ] as const) {
      const earned = kinds.reduce((sum, k) => sum + terms[k].reward, 0);
      const w = await waitFor('a reward never arrived', 30_000, async () => {
        const current = await wallet(user);
        return current.available?.amount === earned ? current : undefined;
      });
      expect(w.total_earned).toEqual(usd(earned));
      expect(
        (await statement(user))
          .map((l) => [l.code, l.direction, l.amount.amount, l.metadata.submission_id])
          .sort(),
      ).toEqual(kinds.map((k) => ['reward', 'credit', terms[k].reward, work[k]]).sort());
      // The golden work was approved against its known answer, the rest by the judges' consensus.
      expect((await statement(user)).map((l) => [l.cause.submission_id, l.cause.verdict]).sort()).toEqual(
        kinds.map((k) => [work[k], k === 'golden' ? 'golden' : 'consensus']).sort(),
      );
    }
    // Judges: one fee per judged piece of work they reviewed (the golden one paid no judge).
    const judgedIds = judged.map((k) => work[k]!);
    for (const judge of judges) {
      const lines = await waitFor("a judge's fees never arrived", 30_000, async () => {
        const current = await statement(judge);
        const ours = current.filter((l) => judgedIds.includes(l.metadata.submission_id ?? ''));
        return ours.length === judgedIds.length ? current : undefined;
      });
      const ours = lines.filter((l) => judgedIds.includes(l.metadata.submission_id ?? ''));
      expect(ours.map((l) => [l.code, l.amount.amount]).sort()).toEqual(
        judgedIds.map(() => ['judge_fee', JUDGE_FEE]),
      );
      // Every cent of the wallet is a statement line (other open work a judge was offered on the way included).
      const sum = lines.reduce(
        (total, l) => total + (l.direction === 'credit' ? 1 : -1) * l.amount.amount,
        0,
      );
      expect((await wallet(judge)).available).toEqual(usd(sum));
    }
    const revenueAfter = await revenue(admin);
    expect(revenueAfter.revenue - revenueBefore.revenue).toBe(FEES2);
    expect(revenueAfter.balanced).toBe(true);

    // XP, level and badges follow the approved work.
    const makerXp = makerKinds.reduce((sum, k) => sum + terms[k].xp, 0);
    const progress = await waitFor('engagement never counted the approvals', 30_000, async () => {
      const reply = await call('GET', '/api/v1/me/progress', { token: maker.token });
      const badges = (reply.body.badges ?? []) as { code: string }[];
      const bonus = badges.reduce((sum, b) => sum + (BADGE_XP[b.code] ?? 0), 0);
      return badges.some((b) => b.code === 'first_task') && reply.body.xp === makerXp + bonus
        ? reply
        : undefined;
    });
    expect(progress.body.level).toBe(levelOf(progress.body.xp as number));
    expect(progress.body.level).toBeGreaterThanOrEqual(2);
    expect((await call('GET', '/api/v1/me/progress', { token: guesser.token })).body.xp).toBe(0);
    await waitFor('the guesser was never told of the golden verdict', 30_000, async () => {
      const reply = await call('GET', '/api/v1/notifications', { token: guesser.token });
      return reply.body.notifications?.some(
        (n: { data?: { submission_id?: string } }) => n.data?.submission_id === mismatch,
      )
        ? true
        : undefined;
    });

    // The dataset: the public campaign's six approved pieces of work, the photo its one medium.
    const bundle = bundleContents(await actors.downloadBundle(manager, publicId));
    expect(bundle.submissionIds.sort()).toEqual(makerKinds.map((k) => work[k]!).sort());
    expect(bundle.media).toHaveLength(1);

    await expectAuditPasses();
  });
});
