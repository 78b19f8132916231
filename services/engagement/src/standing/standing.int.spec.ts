import { randomUUID } from 'node:crypto';
import { createLogger } from '@tessera/service-kit';
import { failRowWrites } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';
import { decayXp, XP_DECAY_JOB } from './index.ts';

let now = new Date('2026-03-01T16:00:00Z');
let t: TestEngagement;
let admin: string;
const campaignId = randomUUID();

beforeAll(async () => {
  // Small batches, so that the decay test walks several.
  t = await startTestEngagement(
    { ENGAGEMENT_DECAY_BATCH_SIZE: 2 },
    { workers: { [XP_DECAY_JOB]: false }, clock: () => now },
  );
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
  // Badges' XP bonuses would blur the XP these tests count: the shipped badges are switched off.
  const listed = await t.inject({ url: '/api/v1/admin/badges?limit=100', token: admin });
  for (const badge of listed.body.badges as { id: string }[]) {
    await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/badges/${badge.id}`,
      token: admin,
      body: { active: false },
    });
  }
});
afterAll(() => t?.stop());

async function standingOf(userId: string) {
  return t.service.db
    .selectFrom('standings')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
}

const ref = (userId: string, submissionId: string) => ({
  submission_id: submissionId,
  assignment_id: randomUUID(),
  task_id: randomUUID(),
  campaign_id: campaignId,
  contributor_id: userId,
});

const received = (userId: string, at: Date) =>
  t.emit('submissions.submission.received.v1', ref(userId, randomUUID()), { time: at });

function approved(
  userId: string,
  options: { xp?: number; submissionId?: string; at?: Date; method?: 'consensus' | 'appeal' } = {},
) {
  return t.emit(
    'submissions.submission.approved.v1',
    {
      submission_id: options.submissionId ?? randomUUID(),
      task_id: randomUUID(),
      campaign_id: campaignId,
      contributor_id: userId,
      reward: { amount: 10, currency: 'USD' },
      xp_reward: options.xp ?? 10,
      ...(options.method ? { method: options.method } : {}),
    },
    { time: options.at ?? now },
  );
}

const rejected = (userId: string, submissionId: string, stage?: 'pre_validation' | 'review' | 'appeal') =>
  t.emit('submissions.submission.rejected.v1', {
    ...ref(userId, submissionId),
    reason_code: 'LOW_QUALITY',
    ...(stage ? { stage } : {}),
  });

const validatedGolden = (userId: string, submissionId: string) =>
  t.emit('submissions.submission.validated.v1', {
    ...ref(userId, submissionId),
    company_id: randomUUID(),
    task_type: 'text',
    revision: 1,
    judges_required: 3,
    is_golden: true,
    answer: null,
    media: [],
    submitted_at: now.toISOString(),
  });

const setTimeZone = async (token: string, timeZone: string) =>
  expect(
    (await t.inject({ method: 'PUT', url: '/api/v1/me/time-zone', token, body: { time_zone: timeZone } }))
      .status,
  ).toBe(200);

/** Waits until everything published to the submissions stream before it is handled (it is one consumer, in order). */
const drainSubmissions = () => received(randomUUID(), now);

const trustEvents = async (userId: string) =>
  (await t.written('engagement.contributor.trust-changed.v1', 'user_id', userId)).map(
    (event) => event.data.trust_score,
  );

describe('XP', () => {
  it('is earned once per approved submission, however often the event is delivered', async () => {
    const user = await t.contributor();
    const event = await approved(user.id, { xp: 40 });
    await t.handle(event);
    // The same event under another message id gets past JetStream's de-duplication: the inbox stops it.
    await t.publish(event, 'other-msg-id');
    await drainSubmissions();

    expect(await standingOf(user.id)).toMatchObject({ xp: 40, level: 1, tasks_completed: 1 });
    const entries = await t.service.db
      .selectFrom('xp_entries')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(entries).toMatchObject([{ source: 'submission', amount: 40 }]);
  });

  it('is the task’s XP × the streak multiplier', async () => {
    const user = await t.contributor();
    await received(user.id, new Date('2026-02-27T10:00:00Z'));
    await received(user.id, new Date('2026-02-28T10:00:00Z'));
    await received(user.id, new Date('2026-03-01T10:00:00Z'));
    await approved(user.id, { xp: 50 }); // a 3-day streak: × 1.2
    expect(await standingOf(user.id)).toMatchObject({ xp: 60, streak_days: 3 });
  });

  it('publishes a level change exactly once when a threshold is crossed', async () => {
    const user = await t.contributor();
    await approved(user.id, { xp: 99 });
    expect(await t.written('engagement.contributor.level-changed.v1', 'user_id', user.id)).toEqual([]);
    const crossing = await approved(user.id, { xp: 1 });
    await t.handle(crossing);
    await approved(user.id, { xp: 5 });

    const changes = await t.written('engagement.contributor.level-changed.v1', 'user_id', user.id);
    expect(changes.map((event) => event.data.level)).toEqual([2]);
    expect(changes[0]!.causationid).toBe(crossing.id);
    expect(await standingOf(user.id)).toMatchObject({ xp: 105, level: 2 });
  });

  it('counts each review once, with XP only when it agreed with the verdict', async () => {
    const judge = await t.contributor();
    const agreed = await t.emit('qc.review.counted.v1', {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      judge_id: judge.id,
      agreed: true,
    });
    await t.handle(agreed);
    await t.emit('qc.review.counted.v1', {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      judge_id: judge.id,
      agreed: false,
    });
    expect(await standingOf(judge.id)).toMatchObject({ xp: 5, reviews_done: 2, streak_days: 1 });
  });
});

describe('streaks', () => {
  it('count days in the user’s time zone: 14:30Z and 15:30Z are two days in Tokyo, one in UTC', async () => {
    const tokyo = await t.contributor();
    await setTimeZone(tokyo.token, 'Asia/Tokyo');
    const utc = await t.contributor();
    for (const user of [tokyo, utc]) {
      await received(user.id, new Date('2026-03-01T14:30:00Z'));
      await received(user.id, new Date('2026-03-01T15:30:00Z'));
    }
    expect((await standingOf(tokyo.id)).streak_days).toBe(2);
    expect((await standingOf(utc.id)).streak_days).toBe(1);

    // A late event from an earlier day neither counts again nor breaks the streak.
    await received(tokyo.id, new Date('2026-02-27T01:00:00Z'));
    expect((await standingOf(tokyo.id)).streak_days).toBe(2);

    // A missed day starts again at 1.
    await received(utc.id, new Date('2026-03-03T09:00:00Z'));
    expect((await standingOf(utc.id)).streak_days).toBe(1);
  });
});

describe('trust', () => {
  it('moves by the documented weights, once per cause, and is published only when its decimal changes', async () => {
    const user = await t.contributor();
    const golden = randomUUID();
    await validatedGolden(user.id, golden);

    await approved(user.id); // 5.05 → 5.1
    await approved(user.id); // 5.10 → 5.1: no event
    const reviewRejection = await rejected(user.id, randomUUID(), 'review'); // 4.95 → 5.0
    await t.handle(reviewRejection);
    await rejected(user.id, randomUUID(), 'pre_validation'); // 4.90 → 4.9
    await approved(user.id, { submissionId: golden }); // +0.05 +0.10 = 5.05 → 5.1
    const flag = await t.emit('submissions.contributor.flagged.v1', {
      flag_id: randomUUID(),
      contributor_id: user.id,
      signal: 'too_fast',
      submission_id: null,
      campaign_id: null,
    }); // 4.55 → 4.6
    await t.handle(flag);

    expect(await trustEvents(user.id)).toEqual([5.1, 5, 4.9, 5.1, 4.6]);
    expect(await standingOf(user.id)).toMatchObject({
      trust_score: '4.6',
      trust_exact: '4.55',
      tasks_completed: 3,
      rejections_at_review: 1,
      golden_right: 1,
      golden_wrong: 0,
    });
  });

  it('gives back a rejection overturned on appeal, in trust and in accuracy', async () => {
    const user = await t.contributor();
    const submissionId = randomUUID();
    await validatedGolden(user.id, submissionId);
    await rejected(user.id, submissionId); // no stage: review; golden: −0.45 → 4.55 → 4.6
    await rejected(user.id, submissionId, 'appeal'); // the same rejection upheld: counted already
    expect(await standingOf(user.id)).toMatchObject({ trust_exact: '4.55', golden_wrong: 1 });

    await approved(user.id, { submissionId, method: 'appeal', xp: 10 }); // +0.45 back, +0.15 golden approval
    expect(await standingOf(user.id)).toMatchObject({
      trust_exact: '5.15',
      trust_score: '5.2',
      rejections_at_review: 0,
      golden_wrong: 0,
      golden_right: 1,
    });
    // The approval (4.70) and the overturn (5.15) are two movements, each published.
    expect(await trustEvents(user.id)).toEqual([4.6, 4.7, 5.2]);
  });

  it('falls by 1.00 for a judge removed from judging, clamped at 0', async () => {
    const judge = await t.contributor();
    for (let i = 0; i < 6; i++) {
      await t.emit('qc.judge.removed.v1', {
        judge_id: judge.id,
        reason_code: 'HONEYPOT_ACCURACY',
        honeypot_accuracy: 0.4,
        honeypots: 20,
        rejudged: 3,
      });
    }
    expect(await trustEvents(judge.id)).toEqual([4, 3, 2, 1, 0]);
    expect((await standingOf(judge.id)).trust_score).toBe('0.0');
  });
});

describe('stats and progress', () => {
  it('answer the user’s numbers: level, XP, tasks, accuracy, streak, trust; earnings per currency only to the user and admins', async () => {
    const user = await t.contributor();
    await setTimeZone(user.token, 'Europe/Paris');
    const stranger = await t.contributor();

    await received(user.id, new Date('2026-03-01T09:00:00Z'));
    await approved(user.id, { xp: 150 });
    await approved(user.id, { xp: 20 });
    await rejected(user.id, randomUUID());
    const reward = await t.emit('ledger.reward.paid.v1', {
      submission_id: randomUUID(),
      campaign_id: campaignId,
      contributor_id: user.id,
      amount: { amount: 250, currency: 'USD' },
      transfer_id: randomUUID(),
      campaign_remaining: { amount: 1000, currency: 'USD' },
    });
    await t.handle(reward); // once per transfer
    await t.emit('ledger.judge-fee.paid.v1', {
      review_id: randomUUID(),
      campaign_id: campaignId,
      judge_id: user.id,
      amount: { amount: 30, currency: 'EUR' },
      transfer_id: randomUUID(),
      campaign_remaining: { amount: 1000, currency: 'EUR' },
    });
    await t.emit('ledger.promotion.paid.v1', {
      user_id: user.id,
      kind: 'bonus',
      source_id: randomUUID(),
      amount: { amount: 100, currency: 'USD' },
      transfer_id: randomUUID(),
    });

    const stats = await t.inject({ url: `/api/v1/users/${user.id}/stats`, token: user.token });
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      user_id: user.id,
      level: 2,
      xp: 170,
      tasks_completed: 2,
      reviews_done: 0,
      accuracy: 0.6667,
      streak_days: 1,
      trust_score: 5,
      total_earned: [
        { amount: 30, currency: 'EUR' },
        { amount: 350, currency: 'USD' },
      ],
    });

    // The public numbers are everyone's to read; the earnings only the user's own and an admin's.
    const { total_earned: earned, ...numbers } = stats.body as Record<string, unknown>;
    const key = t.companyKeyToken(randomUUID(), ['company:read', 'submissions:read']);
    for (const token of [stranger.token, key]) {
      const other = await t.inject({ url: `/api/v1/users/${user.id}/stats`, token });
      expect(other.status).toBe(200);
      expect(other.body).toEqual(numbers);
      expect(other.body).not.toHaveProperty('total_earned');
    }
    const byAdmin = await t.inject({ url: `/api/v1/users/${user.id.toUpperCase()}/stats`, token: admin });
    expect(byAdmin.body).toMatchObject({ total_earned: earned });

    const progress = await t.inject({ url: '/api/v1/me/progress', token: user.token });
    expect(progress.status).toBe(200);
    expect(progress.body).toEqual({
      level: 2,
      xp: 170,
      xp_for_next: 283,
      xp_to_next: 113,
      streak_days: 1,
      streak_multiplier: 1,
      trust_score: 5,
      time_zone: 'Europe/Paris',
      badges: [],
    });
  });

  it('count a honeypot review’s fee in the judge’s earnings exactly as a real review’s fee, once per transfer', async () => {
    const [real, honeypot] = [await t.contributor(), await t.contributor()];
    const fee = (judgeId: string) => ({
      review_id: randomUUID(),
      campaign_id: campaignId,
      judge_id: judgeId,
      amount: { amount: 45, currency: 'EUR' },
    });
    const realFee = {
      ...fee(real.id),
      transfer_id: randomUUID(),
      campaign_remaining: { amount: 0, currency: 'EUR' },
    };
    await t.handle(await t.emit('ledger.judge-fee.paid.v1', realFee)); // redelivered
    await t.emit('ledger.judge-fee.paid.v1', realFee); // the same transfer, another event id
    const honeypotFee = { ...fee(honeypot.id), transfer_ids: [randomUUID(), randomUUID()] };
    await t.handle(await t.emit('ledger.honeypot-fee.paid.v1', honeypotFee));
    await t.emit('ledger.honeypot-fee.paid.v1', honeypotFee);

    const statsOf = async (user: { id: string; token: string }) => {
      const stats = await t.inject({ url: `/api/v1/users/${user.id}/stats`, token: user.token });
      expect(stats.status).toBe(200);
      const { user_id: _, ...numbers } = stats.body as Record<string, unknown>;
      return numbers;
    };
    const fromHoneypot = await statsOf(honeypot);
    expect(fromHoneypot).toMatchObject({ total_earned: [{ amount: 45, currency: 'EUR' }] });
    expect(fromHoneypot).toEqual(await statsOf(real));
    const progressOf = async (user: { token: string }) =>
      (await t.inject({ url: '/api/v1/me/progress', token: user.token })).body as unknown;
    expect(await progressOf(honeypot)).toEqual(await progressOf(real));
  });

  it('answer the starting values for a user with no standing, and refuse bad input and API keys', async () => {
    const reader = await t.contributor();
    const nobody = randomUUID();
    const stats = await t.inject({ url: `/api/v1/users/${nobody}/stats`, token: reader.token });
    expect(stats.body).toEqual({
      user_id: nobody,
      level: 1,
      xp: 0,
      tasks_completed: 0,
      reviews_done: 0,
      accuracy: null,
      streak_days: 0,
      trust_score: 5,
    });
    const own = await t.inject({ url: `/api/v1/users/${reader.id}/stats`, token: reader.token });
    expect(own.body).toMatchObject({ total_earned: [] });
    const progress = await t.inject({ url: '/api/v1/me/progress', token: reader.token });
    expect(progress.body).toMatchObject({ level: 1, xp: 0, xp_for_next: 100, streak_multiplier: 1 });

    const bad = await t.inject({ url: '/api/v1/users/not-a-uuid/stats', token: reader.token });
    expect(bad.status).toBe(400);
    expect((await t.inject({ url: `/api/v1/users/${nobody}/stats` })).status).toBe(401);
    const key = t.companyKeyToken(randomUUID(), []);
    expect((await t.inject({ url: '/api/v1/me/progress', token: key })).status).toBe(403);
  });

  it('show a streak broken by a missed day as 0, and the multiplier of a running one', async () => {
    const user = await t.contributor();
    for (const day of ['2026-02-26', '2026-02-27', '2026-02-28']) {
      await received(user.id, new Date(`${day}T12:00:00Z`));
    }
    // Yesterday was the last active day: the streak still stands today.
    expect((await t.inject({ url: '/api/v1/me/progress', token: user.token })).body).toMatchObject({
      streak_days: 3,
      streak_multiplier: 1.2,
    });
    const saved = now;
    now = new Date('2026-03-02T12:00:00Z');
    try {
      expect((await t.inject({ url: '/api/v1/me/progress', token: user.token })).body).toMatchObject({
        streak_days: 0,
        streak_multiplier: 1,
      });
    } finally {
      now = saved;
    }
  });
});

describe('XP decay', () => {
  it('decays the others when one user of a batch fails, and that user at a later run', async () => {
    const users = await Promise.all([t.contributor(), t.contributor(), t.contributor()]);
    const lastSeen = new Date('2026-04-01T08:00:00Z');
    for (const user of users) {
      await received(user.id, lastSeen);
      await approved(user.id, { xp: 1000, at: lastSeen });
    }
    const failing = users[1];
    const db = t.service.db;
    // A fault of ours in one user's decay, injected by the database itself.
    const restore = await failRowWrites(db, {
      table: 'standings',
      column: 'user_id',
      value: failing.id,
      on: 'update',
    });
    const day = new Date('2026-04-09T10:00:00Z');
    const quiet = {
      ...t.service,
      logger: createLogger({ name: 'decay-test', level: 'silent', pretty: false }),
    };
    try {
      await decayXp(quiet, day);
    } finally {
      await restore();
    }
    expect(await Promise.all(users.map(async (user) => (await standingOf(user.id)).xp))).toEqual([
      950, 1000, 950,
    ]);
    await decayXp(quiet, new Date('2026-04-09T11:00:00Z'));
    expect(await Promise.all(users.map(async (user) => (await standingOf(user.id)).xp))).toEqual([
      950, 950, 950,
    ]);
  });

  it('takes 5 % of XP from users inactive for 7 days, once per UTC day, and may lower the level', async () => {
    const idle = await Promise.all([t.contributor(), t.contributor(), t.contributor()]);
    const active = await t.contributor();
    const lastSeen = new Date('2026-03-01T08:00:00Z');
    for (const user of [...idle, active]) {
      await received(user.id, lastSeen);
      await approved(user.id, { xp: 1000, at: lastSeen });
    }
    const dropper = await t.contributor();
    await received(dropper.id, lastSeen);
    await approved(dropper.id, { xp: 100, at: lastSeen }); // level 2 at exactly 100
    const later = new Date('2026-03-09T07:00:00Z');
    await received(active.id, later);

    const day1 = new Date('2026-03-09T10:00:00Z');
    await decayXp(t.service, day1);
    await decayXp(t.service, new Date('2026-03-09T23:00:00Z')); // the same UTC day: nothing more
    for (const user of idle) expect((await standingOf(user.id)).xp).toBe(950);
    expect((await standingOf(active.id)).xp).toBe(1000);
    expect(await standingOf(dropper.id)).toMatchObject({ xp: 95, level: 1 });
    const levels = await t.written('engagement.contributor.level-changed.v1', 'user_id', dropper.id);
    expect(levels.map((event) => event.data.level)).toEqual([2, 1]);

    await decayXp(t.service, new Date('2026-03-10T10:00:00Z')); // the next day: once more
    for (const user of idle) expect((await standingOf(user.id)).xp).toBe(903);
    const decays = await t.service.db
      .selectFrom('xp_entries')
      .select(['amount', 'source_id'])
      .where('source', '=', 'decay')
      .where('user_id', '=', idle[0].id)
      .orderBy('at')
      .execute();
    expect(decays).toEqual([
      { amount: -50, source_id: `${idle[0].id}:2026-03-09` },
      { amount: -47, source_id: `${idle[0].id}:2026-03-10` },
    ]);
  });
});

describe('erasure', () => {
  it('keeps the numbers but no time of activity, and records nothing of what arrives after it', async () => {
    const user = await t.contributor();
    const day = (time: string) => new Date(`2026-02-27T${time}Z`);
    await received(user.id, day('09:13:00'));
    await approved(user.id, { xp: 150, at: day('10:00:00') });
    await rejected(user.id, randomUUID());
    const paid = (at: Date) =>
      t.emit(
        'ledger.reward.paid.v1',
        {
          submission_id: randomUUID(),
          campaign_id: campaignId,
          contributor_id: user.id,
          amount: { amount: 250, currency: 'USD' },
          transfer_id: randomUUID(),
          campaign_remaining: { amount: 1000, currency: 'USD' },
        },
        { time: at },
      );
    await paid(day('10:00:01'));
    const badge = await t.service.db.selectFrom('badges').select('id').executeTakeFirstOrThrow();
    await t.service.db
      .insertInto('user_badges')
      .values({ user_id: user.id, badge_id: badge.id, unlocked_at: day('10:00:02') })
      .execute();
    const before = await standingOf(user.id);
    expect(before.last_active_at).not.toBeNull();

    const erasedAt = new Date('2026-03-01T12:00:00Z');
    await t.emit('identity.user.erased.v1', { user_id: user.id }, { time: erasedAt });
    const after = await standingOf(user.id);
    expect(after).toMatchObject({
      xp: before.xp,
      level: before.level,
      tasks_completed: 1,
      rejections_at_review: 1,
      trust_exact: before.trust_exact,
      last_active_at: null,
      streak_days: 0,
      streak_last_day: null,
      updated_at: erasedAt,
    });
    const times = async () => ({
      xp: (
        await t.service.db.selectFrom('xp_entries').select('at').where('user_id', '=', user.id).execute()
      ).map((row) => row.at),
      effects: (
        await t.service.db
          .selectFrom('standing_effects')
          .select('at')
          .where('user_id', '=', user.id)
          .execute()
      ).map((row) => row.at),
      badges: (
        await t.service.db
          .selectFrom('user_badges')
          .select('unlocked_at')
          .where('user_id', '=', user.id)
          .execute()
      ).map((row) => row.unlocked_at),
    });
    const erasedTimes = await times();
    expect(erasedTimes.xp).toEqual([erasedAt]);
    expect(erasedTimes.effects).toHaveLength(3); // approval, rejection, earning
    expect(erasedTimes.effects.every((at) => at.getTime() === erasedAt.getTime())).toBe(true);
    expect(erasedTimes.badges).toEqual([erasedAt]);

    // What was in flight arrives after the erasure: nothing of it is recorded.
    await received(user.id, new Date('2026-03-01T13:00:00Z'));
    await approved(user.id, { xp: 40, at: new Date('2026-03-01T13:05:00Z') });
    await paid(new Date('2026-03-01T13:06:00Z'));
    expect(await standingOf(user.id)).toEqual(after);
    expect(await times()).toEqual(erasedTimes);
    const earned = await t.service.db
      .selectFrom('earnings')
      .select('amount')
      .where('user_id', '=', user.id)
      .execute();
    expect(earned.map((row) => Number(row.amount))).toEqual([250]);
  });
});
