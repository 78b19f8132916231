import { randomUUID } from 'node:crypto';
import type { TaskType } from '@tessera/contracts';
import { foreignEvent } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedId } from '../ids.ts';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';
import { recordBadgeActivity } from './handle.ts';
import { unlockedBadges } from './unlocked.ts';

let t: TestEngagement;
let admin: string;
const campaignId = randomUUID();
const companyId = randomUUID();

beforeAll(async () => {
  t = await startTestEngagement();
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});
afterAll(() => t?.stop());

let codes = 0;
const uniqueCode = () => `b_${Date.now().toString(36)}_${codes++}`;

async function createBadge(body: Record<string, unknown>) {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/admin/badges',
    token: admin,
    body: { code: uniqueCode(), name: 'A badge', xp_bonus: 40, ...body },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.badge as { id: string; code: string };
}

function publishedTask(type: TaskType): Promise<string> {
  return t.publishTask(type, { campaignId, companyId });
}

const approvedData = (userId: string, taskId: string, submissionId: string = randomUUID()) => ({
  submission_id: submissionId,
  task_id: taskId,
  campaign_id: campaignId,
  contributor_id: userId,
  reward: { amount: 10, currency: 'USD' },
  xp_reward: 5,
});

const approve = (userId: string, taskId: string, submissionId?: string, at?: Date) =>
  t.emit(
    'submissions.submission.approved.v1',
    approvedData(userId, taskId, submissionId),
    at ? { time: at } : {},
  );

const received = (userId: string, taskId: string, submissionId: string, at: Date) =>
  t.emit(
    'submissions.submission.received.v1',
    {
      submission_id: submissionId,
      assignment_id: randomUUID(),
      task_id: taskId,
      campaign_id: campaignId,
      contributor_id: userId,
    },
    { time: at },
  );

const review = (judgeId: string, reviewId = randomUUID()) =>
  t.emit('qc.review.counted.v1', {
    review_id: reviewId,
    submission_id: randomUUID(),
    judge_id: judgeId,
    agreed: true,
  });

async function unlockedIds(userId: string): Promise<string[]> {
  const rows = await t.service.db
    .selectFrom('user_badges')
    .select('badge_id')
    .where('user_id', '=', userId)
    .execute();
  return rows.map((row) => row.badge_id);
}

async function unlockEvents(userId: string, badgeId: string) {
  return (await t.written('engagement.badge.unlocked.v1', 'user_id', userId)).filter(
    (event) => event.data.badge_id === badgeId,
  );
}

async function badgeXp(userId: string, badgeId: string) {
  return t.service.db
    .selectFrom('xp_entries')
    .select('amount')
    .where('source', '=', 'badge')
    .where('source_id', '=', `${userId}:${badgeId}`)
    .execute();
}

describe('admin badges', () => {
  it('are defined by admins (201), listed, renamed and retired; 403 for a contributor, 401 without a token', async () => {
    const badge = await createBadge({
      criteria: { type: 'tasks_completed', threshold: 3, task_type: 'image' },
      money_bonus: { amount: 500, currency: 'USD' },
      description: 'Three images',
    });
    expect(badge).toMatchObject({
      criteria: { type: 'tasks_completed', threshold: 3, task_type: 'image' },
      money_bonus: { amount: 500, currency: 'USD' },
      active: true,
      xp_bonus: 40,
    });

    const list = await t.inject({ url: '/api/v1/admin/badges?limit=100', token: admin });
    expect(list.status).toBe(200);
    const codes = list.body.badges.map((b: { code: string }) => b.code);
    expect(codes).toEqual(
      expect.arrayContaining([badge.code, 'first_task', 'voice_50', 'night_owl', 'earner']),
    );

    const renamed = await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/badges/${badge.id}`,
      token: admin,
      body: { name: 'Picture Perfect' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.badge).toMatchObject({ name: 'Picture Perfect', active: true });

    const user = await t.contributor();
    const shown = await t.inject({ url: '/api/v1/badges?limit=100', token: user.token });
    expect(shown.body.badges.map((b: { code: string }) => b.code)).toContain(badge.code);

    const retired = await t.inject({
      method: 'DELETE',
      url: `/api/v1/admin/badges/${badge.id}`,
      token: admin,
    });
    expect(retired.body.badge.active).toBe(false);
    const after = await t.inject({ url: '/api/v1/badges?limit=100', token: user.token });
    expect(after.body.badges.map((b: { code: string }) => b.code)).not.toContain(badge.code);

    const refused = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/badges',
      token: user.token,
      body: { code: uniqueCode(), name: 'x', xp_bonus: 1, criteria: { type: 'reviews_done', threshold: 1 } },
    });
    expect(refused.status).toBe(403);
    expect((await t.inject({ url: '/api/v1/badges' })).status).toBe(401);
    const missing = await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/badges/${randomUUID()}`,
      token: admin,
      body: { active: false },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('BADGE_NOT_FOUND');
  });

  it('answer a replayed Idempotency-Key with the same badge, refuse a taken code with 409 BADGE_CODE_TAKEN and criteria that do not fit their type with 400', async () => {
    const first = await createBadge({ criteria: { type: 'reviews_done', threshold: 5 } });
    const body = {
      code: uniqueCode(),
      name: 'Keyed',
      xp_bonus: 1,
      criteria: { type: 'reviews_done', threshold: 9 },
    };
    const key = randomUUID();
    const keyed = await t.inject({ method: 'POST', url: '/api/v1/admin/badges', token: admin, key, body });
    const replayed = await t.inject({ method: 'POST', url: '/api/v1/admin/badges', token: admin, key, body });
    expect([keyed.status, replayed.status]).toEqual([201, 201]);
    expect(replayed.body.badge.id).toBe(keyed.body.badge.id);

    const again = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/badges',
      token: admin,
      body: {
        code: first.code,
        name: 'Again',
        xp_bonus: 1,
        criteria: { type: 'reviews_done', threshold: 5 },
      },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('BADGE_CODE_TAKEN');

    const bad = async (body: Record<string, unknown>) =>
      (
        await t.inject({
          method: 'POST',
          url: '/api/v1/admin/badges',
          token: admin,
          body: { code: uniqueCode(), name: 'Bad', xp_bonus: 1, ...body },
        })
      ).status;
    expect(await bad({ criteria: { type: 'reviews_done', threshold: 5, task_type: 'audio' } })).toBe(400);
    expect(await bad({ criteria: { type: 'tasks_completed', threshold: 5, task_type: 'video' } })).toBe(400);
    expect(await bad({ criteria: { type: 'time_of_day', from_hour: 3, to_hour: 3, threshold: 1 } })).toBe(
      400,
    );
    expect(await bad({ criteria: { type: 'time_of_day', from_hour: 0, to_hour: 24, threshold: 1 } })).toBe(
      400,
    );
    expect(await bad({ criteria: { type: 'trust_score', threshold: 11 } })).toBe(400);
    expect(await bad({ criteria: { type: 'streak_days', threshold: 0 } })).toBe(400);
    expect(await bad({ criteria: { type: 'level', threshold: 3 } })).toBe(400);
    expect(
      await bad({
        criteria: { type: 'reviews_done', threshold: 5 },
        money_bonus: { amount: 0, currency: 'USD' },
      }),
    ).toBe(400);
    expect(await bad({ code: 'Bad Code', criteria: { type: 'reviews_done', threshold: 5 } })).toBe(400);
    expect(await bad({ criteria: { type: 'reviews_done', threshold: 5 }, extra: true })).toBe(400);
  });
});

describe('unlocking', () => {
  it('unlocks first_task on the first approval, once, with its XP and an event, and shows it to the user', async () => {
    const user = await t.contributor();
    const taskId = await publishedTask('text');
    const submissionId = randomUUID();
    const approval = await approve(user.id, taskId, submissionId);
    await t.handle({ ...approval, id: randomUUID() }); // the same approval told twice

    const firstTask = (
      await t.inject({ url: '/api/v1/badges?limit=100', token: user.token })
    ).body.badges.find((b: { code: string }) => b.code === 'first_task') as {
      id: string;
      unlocked_at: string | null;
    };
    expect(firstTask.unlocked_at).not.toBeNull();
    expect(await unlockEvents(user.id, firstTask.id)).toHaveLength(1);
    expect(await unlockEvents(user.id, firstTask.id)).toMatchObject([
      { data: { code: 'first_task', xp_bonus: 25 }, causationid: approval.id },
    ]);
    expect(await badgeXp(user.id, firstTask.id)).toEqual([{ amount: 25 }]);
    const counter = await t.service.db
      .selectFrom('badge_counters')
      .select('value')
      .where('user_id', '=', user.id)
      .where('metric', '=', 'tasks_completed')
      .where('scope', '=', '')
      .executeTakeFirstOrThrow();
    expect(counter.value).toBe(1);
    expect((await unlockedBadges(t.service.db, user.id)).map((b) => b.code)).toEqual(['first_task']);
  });

  it('counts tasks of one type toward a badge of that type only', async () => {
    const badge = await createBadge({
      criteria: { type: 'tasks_completed', threshold: 2, task_type: 'audio' },
    });
    const user = await t.contributor();
    const [audio, image] = await Promise.all([publishedTask('audio'), publishedTask('image')]);
    await approve(user.id, audio);
    await approve(user.id, image);
    await approve(user.id, image);
    expect(await unlockedIds(user.id)).not.toContain(badge.id);
    await approve(user.id, audio);
    expect(await unlockedIds(user.id)).toContain(badge.id);
  });

  it('counts reviews once per review toward reviews_done', async () => {
    const badge = await createBadge({ criteria: { type: 'reviews_done', threshold: 2 } });
    const judge = await t.contributor();
    const reviewId = randomUUID();
    await review(judge.id, reviewId);
    await review(judge.id, reviewId); // the same review, another event
    expect(await unlockedIds(judge.id)).not.toContain(badge.id);
    await review(judge.id);
    expect(await unlockedIds(judge.id)).toContain(badge.id);
  });

  it('adds earnings per currency, once per transfer, from rewards, judge fees and promotions', async () => {
    const badge = await createBadge({
      criteria: { type: 'earnings_total', threshold: 1_000, currency: 'EUR' },
    });
    const user = await t.contributor();
    const rewardTransfer = randomUUID();
    const reward = {
      submission_id: randomUUID(),
      campaign_id: campaignId,
      contributor_id: user.id,
      amount: { amount: 600, currency: 'EUR' },
      transfer_id: rewardTransfer,
      campaign_remaining: { amount: 1, currency: 'EUR' },
    };
    await t.emit('ledger.reward.paid.v1', reward);
    await t.emit('ledger.reward.paid.v1', reward); // the same transfer again
    await t.emit('ledger.judge-fee.paid.v1', {
      review_id: randomUUID(),
      campaign_id: campaignId,
      judge_id: user.id,
      amount: { amount: 399, currency: 'EUR' },
      transfer_id: randomUUID(),
      campaign_remaining: { amount: 1, currency: 'EUR' },
    });
    await t.emit('ledger.promotion.paid.v1', {
      user_id: user.id,
      kind: 'bonus',
      source_id: randomUUID(),
      amount: { amount: 5_000, currency: 'USD' },
      transfer_id: randomUUID(),
    });
    expect(await unlockedIds(user.id)).not.toContain(badge.id); // 999 EUR; dollars do not count
    await t.emit('ledger.promotion.paid.v1', {
      user_id: user.id,
      kind: 'bonus',
      source_id: randomUUID(),
      amount: { amount: 1, currency: 'EUR' },
      transfer_id: randomUUID(),
    });
    expect(await unlockedIds(user.id)).toContain(badge.id);
  });

  it('counts a honeypot review’s fee toward earnings exactly as a real review’s fee, once per transfer', async () => {
    const badge = await createBadge({
      criteria: { type: 'earnings_total', threshold: 1_000, currency: 'EUR' },
    });
    const [real, honeypot] = [await t.contributor(), await t.contributor()];
    const fee = (judgeId: string, amount: number) => ({
      review_id: randomUUID(),
      campaign_id: campaignId,
      judge_id: judgeId,
      amount: { amount, currency: 'EUR' },
    });
    const payReal = async (amount: number) => {
      const data = {
        ...fee(real.id, amount),
        transfer_id: randomUUID(),
        campaign_remaining: { amount: 1, currency: 'EUR' },
      };
      await t.handle(await t.emit('ledger.judge-fee.paid.v1', data)); // redelivered
      await t.emit('ledger.judge-fee.paid.v1', data); // the same transfer, another event id
    };
    const payHoneypot = async (amount: number) => {
      const data = { ...fee(honeypot.id, amount), transfer_ids: [randomUUID(), randomUUID()] };
      await t.handle(await t.emit('ledger.honeypot-fee.paid.v1', data));
      await t.emit('ledger.honeypot-fee.paid.v1', data);
    };
    const earnings = async (userId: string) =>
      t.service.db
        .selectFrom('badge_counters')
        .select(['scope', 'value'])
        .where('user_id', '=', userId)
        .where('metric', '=', 'earnings_total')
        .execute();

    await payReal(999);
    await payHoneypot(999);
    expect(await earnings(honeypot.id)).toEqual([{ scope: 'EUR', value: 999 }]);
    expect(await earnings(honeypot.id)).toEqual(await earnings(real.id));
    expect(await unlockedIds(honeypot.id)).not.toContain(badge.id);
    expect(await unlockedIds(real.id)).not.toContain(badge.id);
    await payReal(1);
    await payHoneypot(1);
    expect(await earnings(honeypot.id)).toEqual(await earnings(real.id));
    expect(await unlockedIds(honeypot.id)).toContain(badge.id);
    expect(await unlockedIds(real.id)).toContain(badge.id);
    // The unlock rewards a honeypot's judge as a real one's: the badge's XP once, its event once.
    expect(await badgeXp(honeypot.id, badge.id)).toEqual(await badgeXp(real.id, badge.id));
    expect(await unlockEvents(honeypot.id, badge.id)).toHaveLength(1);
  });

  it('counts approved work received at night in the user’s time zone toward a time-of-day badge', async () => {
    const badge = await createBadge({
      criteria: { type: 'time_of_day', from_hour: 0, to_hour: 5, threshold: 2 },
    });
    const user = await t.contributor();
    const set = await t.inject({
      method: 'PUT',
      url: '/api/v1/me/time-zone',
      token: user.token,
      body: { time_zone: 'Asia/Tokyo' },
    });
    expect(set.status).toBe(200);
    const taskId = await publishedTask('text');
    const [night1, day, night2] = [randomUUID(), randomUUID(), randomUUID()];
    await received(user.id, taskId, night1, new Date('2026-03-01T16:30:00Z')); // 01:30 in Tokyo
    await received(user.id, taskId, day, new Date('2026-03-01T03:00:00Z')); // 12:00 in Tokyo, 03:00 UTC
    await received(user.id, taskId, night2, new Date('2026-03-02T19:59:00Z')); // 04:59 in Tokyo
    // Approved in the daytime: the hour it was received counts.
    await approve(user.id, taskId, night1, new Date('2026-03-02T02:00:00Z'));
    await approve(user.id, taskId, day, new Date('2026-03-02T02:00:00Z'));
    expect(await unlockedIds(user.id)).not.toContain(badge.id);
    await approve(user.id, taskId, night2, new Date('2026-03-03T02:00:00Z'));
    expect(await unlockedIds(user.id)).toContain(badge.id);
  });

  it('pays a money bonus once, named after the user and the badge', async () => {
    const badge = await createBadge({
      criteria: { type: 'reviews_done', threshold: 1 },
      money_bonus: { amount: 250, currency: 'USD' },
    });
    const judge = await t.contributor();
    await review(judge.id);
    await review(judge.id);
    const bonusId = derivedId('badge-bonus', judge.id, badge.id);
    const bonuses = await t.written('engagement.bonus.awarded.v1', 'bonus_id', bonusId);
    expect(bonuses).toHaveLength(1);
    expect(bonuses[0]!.data).toEqual({
      bonus_id: bonusId,
      user_id: judge.id,
      amount: { amount: 250, currency: 'USD' },
      reason_code: 'BADGE_UNLOCKED',
    });
  });

  it('ignores companies and erased users', async () => {
    const company = randomUUID();
    await t.emit('identity.user.registered.v1', {
      user_id: company,
      role: 'company',
      country: 'NG',
      languages: ['en'],
    });
    await review(company);
    expect(await unlockedIds(company)).toEqual([]);

    const user = await t.contributor();
    await t.emit('identity.user.erased.v1', { user_id: user.id });
    await approve(user.id, await publishedTask('text'));
    expect(await unlockedIds(user.id)).toEqual([]);
  });

  it('holds the money bonuses of badges and missions while the user is suspended: paid on reinstatement, never after erasure', async () => {
    const badge = await createBadge({
      criteria: { type: 'reviews_done', threshold: 1 },
      money_bonus: { amount: 300, currency: 'USD' },
    });
    const made = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/missions',
      token: admin,
      body: {
        code: uniqueCode(),
        title: 'One review today',
        xp_reward: 0,
        criteria: { type: 'reviews_done', count: 1 },
        money_reward: { amount: 70, currency: 'USD' },
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const bonusesOf = async (userId: string) =>
      (await t.written('engagement.bonus.awarded.v1', 'user_id', userId))
        .filter((event) => event.data.amount.amount === 300 || event.data.amount.amount === 70)
        .map((event) => event.data.reason_code)
        .sort();
    try {
      const suspended = await t.contributor();
      await t.emit('identity.user.suspended.v1', { user_id: suspended.id, reason_code: 'FRAUD_REVIEW' });
      await review(suspended.id);
      // The work counts (the badge unlocks, the mission completes); the money waits.
      expect(await unlockedIds(suspended.id)).toContain(badge.id);
      expect(await bonusesOf(suspended.id)).toEqual([]);
      await t.emit('identity.user.reinstated.v1', { user_id: suspended.id });
      expect(await bonusesOf(suspended.id)).toEqual(['BADGE_UNLOCKED', 'MISSION_COMPLETED']);
      const paid = await t.written(
        'engagement.bonus.awarded.v1',
        'bonus_id',
        derivedId('badge-bonus', suspended.id, badge.id),
      );
      expect(paid).toHaveLength(1);
      await t.emit('identity.user.reinstated.v1', { user_id: suspended.id }); // again: nothing more
      expect(await bonusesOf(suspended.id)).toHaveLength(2);

      const erased = await t.contributor();
      await t.emit('identity.user.suspended.v1', { user_id: erased.id, reason_code: 'FRAUD_REVIEW' });
      await review(erased.id);
      await t.emit('identity.user.erased.v1', { user_id: erased.id });
      await t.emit('identity.user.reinstated.v1', { user_id: erased.id }); // erasure is final
      expect(await bonusesOf(erased.id)).toEqual([]);
      const held = await t.service.db
        .selectFrom('held_bonuses')
        .select('bonus_id')
        .where('user_id', '=', erased.id)
        .execute();
      expect(held).toEqual([]);
    } finally {
      await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/missions/${made.body.mission.id}`,
        token: admin,
        body: { active: false },
      });
    }
  });
});

describe('a race', () => {
  it('unlocks a badge once when two deliveries that both cross its threshold run at the same time', async () => {
    const badge = await createBadge({
      criteria: { type: 'tasks_completed', threshold: 1, task_type: 'validation' },
      money_bonus: { amount: 100, currency: 'USD' },
    });
    const user = await t.contributor();
    const taskId = await publishedTask('validation');
    // Two approvals handled by the handler in two concurrent transactions: both load the badge
    // as not yet unlocked, both cross the threshold; the unlock insert decides.
    const events = [0, 1].map(() =>
      foreignEvent('submissions.submission.approved.v1', approvedData(user.id, taskId)),
    );
    await Promise.all(
      events.map((event) =>
        t.service.db.transaction().execute((trx) =>
          recordBadgeActivity(trx, {
            userId: user.id,
            activity: { kind: 'approval', submissionId: event.data.submission_id, taskType: 'validation' },
            at: new Date(event.time),
            cause: event,
          }),
        ),
      ),
    );
    // And two more causes on two streams at once (an approval and a review), for a second user.
    const other = await t.contributor();
    const both = await createBadge({
      criteria: { type: 'tasks_completed', threshold: 1, task_type: 'validation' },
      money_bonus: { amount: 100, currency: 'USD' },
    });
    await Promise.all([approve(other.id, taskId), approve(other.id, taskId), review(other.id)]);

    for (const [who, id] of [
      [user.id, badge.id],
      [other.id, both.id],
    ] as const) {
      const rows = await t.service.db
        .selectFrom('user_badges')
        .selectAll()
        .where('user_id', '=', who)
        .where('badge_id', '=', id)
        .execute();
      expect(rows).toHaveLength(1);
      expect(await unlockEvents(who, id)).toHaveLength(1);
      expect(
        await t.written('engagement.bonus.awarded.v1', 'bonus_id', derivedId('badge-bonus', who, id)),
      ).toHaveLength(1);
      expect(await badgeXp(who, id)).toHaveLength(1);
    }
  });
});
