import { randomUUID } from 'node:crypto';
import type { TaskType } from '@tessera/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedId } from '../ids.ts';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';

// Noon-ish in UTC is 05:00 the next day in Tokyo: the same instant is on different local days.
let now = new Date('2026-03-01T20:00:00Z');
let t: TestEngagement;
let admin: string;
const campaignId = randomUUID();
const companyId = randomUUID();

beforeAll(async () => {
  t = await startTestEngagement({}, { clock: () => now });
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});
afterAll(() => t?.stop());

let codes = 0;
const uniqueCode = () => `m_${Date.now().toString(36)}_${codes++}`;

async function createMission(body: Record<string, unknown>) {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/admin/missions',
    token: admin,
    body: { code: uniqueCode(), title: 'Daily', xp_reward: 50, ...body },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.mission as { id: string; code: string };
}

function publishedTask(type: TaskType): Promise<string> {
  return t.publishTask(type, { campaignId, companyId });
}

function approve(userId: string, taskId: string, options: { at?: Date; submissionId?: string } = {}) {
  return t.emit(
    'submissions.submission.approved.v1',
    {
      submission_id: options.submissionId ?? randomUUID(),
      task_id: taskId,
      campaign_id: campaignId,
      contributor_id: userId,
      reward: { amount: 10, currency: 'USD' },
      xp_reward: 5,
    },
    { time: options.at ?? now },
  );
}

async function progressOf(missionId: string, userId: string) {
  return t.service.db
    .selectFrom('mission_progress')
    .select(['progress', 'completed_at'])
    .select((eb) => eb.cast<string>('day', 'text').as('day'))
    .where('mission_id', '=', missionId)
    .where('user_id', '=', userId)
    .orderBy('day')
    .execute();
}

async function missionXp(missionId: string, userId: string) {
  return t.service.db
    .selectFrom('xp_entries')
    .select(['amount', 'source_id'])
    .where('source', '=', 'mission')
    .where('source_id', 'like', `${missionId}:${userId}:%`)
    .execute();
}

describe('admin missions', () => {
  it('are created by admins (201), listed and changed; a contributor may not (403)', async () => {
    const mission = await createMission({
      criteria: { type: 'tasks_completed', count: 3, task_type: 'audio' },
      money_reward: { amount: 200, currency: 'USD' },
      starts_on: '2026-01-01',
    });
    expect(mission).toMatchObject({ active: true, starts_on: '2026-01-01', ends_on: null, description: '' });

    const list = await t.inject({ url: '/api/v1/admin/missions?limit=100', token: admin });
    expect(list.status).toBe(200);
    expect(list.body.missions.map((m: { id: string }) => m.id)).toContain(mission.id);

    const patched = await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/missions/${mission.id}`,
      token: admin,
      body: { title: 'Audio sprint', ends_on: '2026-12-31' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.mission).toMatchObject({ title: 'Audio sprint', ends_on: '2026-12-31' });

    const contributor = await t.contributor();
    const refused = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/missions',
      token: contributor.token,
      body: { code: uniqueCode(), title: 'x', xp_reward: 1, criteria: { type: 'reviews_done', count: 1 } },
    });
    expect(refused.status).toBe(403);
    expect((await t.inject({ url: '/api/v1/admin/missions', token: contributor.token })).status).toBe(403);
  });

  it('refuse bad input with a code: 400 for shape, 422 for dates, 409 for a taken code, 404 for none', async () => {
    const post = (body: Record<string, unknown>) =>
      t.inject({ method: 'POST', url: '/api/v1/admin/missions', token: admin, body });
    const valid = {
      code: uniqueCode(),
      title: 'Daily',
      xp_reward: 10,
      criteria: { type: 'reviews_done', count: 2 },
    };

    for (const bad of [
      { ...valid, code: 'Not A Code' },
      { ...valid, title: '' },
      { ...valid, criteria: { type: 'reviews_done', count: 2, task_type: 'audio' } },
      { ...valid, criteria: { type: 'tasks_completed', count: 0 } },
      { ...valid, xp_reward: -1 },
      { ...valid, money_reward: { amount: 0, currency: 'USD' } },
      { ...valid, starts_on: '2026-02-30' },
      { ...valid, surprise: true },
    ]) {
      const response = await post(bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }

    const backwards = await post({ ...valid, starts_on: '2026-03-02', ends_on: '2026-03-01' });
    expect(backwards.status).toBe(422);
    expect(backwards.body.code).toBe('MISSION_DATES_INVALID');

    const created = await post(valid);
    expect(created.status).toBe(201);
    const again = await post({ ...valid, title: 'Another' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('MISSION_CODE_TAKEN');

    const patch = (id: string, body: unknown) =>
      t.inject({ method: 'PATCH', url: `/api/v1/admin/missions/${id}`, token: admin, body });
    expect((await patch(String(created.body.mission.id), {})).status).toBe(400);
    const missing = await patch(randomUUID(), { active: false });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('MISSION_NOT_FOUND');
    const dated = await post({ ...valid, code: uniqueCode(), starts_on: '2026-03-10' });
    const early = await patch(String(dated.body.mission.id), { ends_on: '2026-03-01' });
    expect(early.status).toBe(422);
    expect(early.body.code).toBe('MISSION_DATES_INVALID');
  });
});

describe('mission progress', () => {
  it('counts per local day of the user: the same instants fall on two days in Tokyo, one in UTC', async () => {
    const mission = await createMission({ criteria: { type: 'tasks_completed', count: 5 } });
    const tokyo = await t.contributor();
    await t.inject({
      method: 'PUT',
      url: '/api/v1/me/time-zone',
      token: tokyo.token,
      body: { time_zone: 'Asia/Tokyo' },
    });
    const utc = await t.contributor();
    const task = await publishedTask('image');
    // 10:00Z is 19:00 on 1 March in Tokyo; 20:00Z is 05:00 on 2 March there.
    for (const user of [tokyo, utc]) {
      await approve(user.id, task, { at: new Date('2026-03-01T10:00:00Z') });
      await approve(user.id, task, { at: new Date('2026-03-01T20:00:00Z') });
    }
    expect((await progressOf(mission.id, tokyo.id)).map((r) => [r.day, r.progress])).toEqual([
      ['2026-03-01', 1],
      ['2026-03-02', 1],
    ]);
    expect((await progressOf(mission.id, utc.id)).map((r) => [r.day, r.progress])).toEqual([
      ['2026-03-01', 2],
    ]);

    // "Today" for the Tokyo user at 20:00Z is 2 March, in UTC still 1 March.
    const mine = await t.inject({ url: '/api/v1/missions', token: tokyo.token });
    expect(mine.status).toBe(200);
    expect(mine.body.day).toBe('2026-03-02');
    expect(mine.body.missions.find((m: { id: string }) => m.id === mission.id)).toMatchObject({
      progress: 1,
      count: 5,
      completed_at: null,
    });
    const theirs = await t.inject({ url: '/api/v1/missions', token: utc.token });
    expect(theirs.body.day).toBe('2026-03-01');
    expect(theirs.body.missions.find((m: { id: string }) => m.id === mission.id)).toMatchObject({
      progress: 2,
    });
  });

  it('is rewarded once when complete: one XP entry and one bonus, whatever arrives after or again', async () => {
    const mission = await createMission({
      criteria: { type: 'tasks_completed', count: 3, task_type: 'audio' },
      xp_reward: 40,
      money_reward: { amount: 150, currency: 'USD' },
    });
    const user = await t.contributor();
    const audio = await publishedTask('audio');
    const image = await publishedTask('image');

    const first = await approve(user.id, audio);
    await approve(user.id, image); // another type: does not count
    // The same submission told again by a new event: counts once.
    await approve(user.id, audio, { submissionId: first.data.submission_id });
    await approve(user.id, audio);
    expect(await progressOf(mission.id, user.id)).toMatchObject([{ progress: 2, completed_at: null }]);
    expect(await missionXp(mission.id, user.id)).toEqual([]);

    const completing = await approve(user.id, audio);
    await approve(user.id, audio);
    await t.handle({ ...completing, id: randomUUID() }); // redelivered under a new event id
    await t.handle(completing); // and under its own

    const [row] = await progressOf(mission.id, user.id);
    expect(row?.completed_at).not.toBeNull();
    expect(await missionXp(mission.id, user.id)).toEqual([
      { amount: 40, source_id: `${mission.id}:${user.id}:${row?.day}` },
    ]);
    // Other tests' missions run too: this mission's bonus is the one with its derived id.
    const bonusId = derivedId('mission-bonus', mission.id, user.id, row!.day);
    const bonuses = await t.written('engagement.bonus.awarded.v1', 'bonus_id', bonusId);
    expect(bonuses).toHaveLength(1);
    const forUser = await t.written('engagement.bonus.awarded.v1', 'user_id', user.id);
    expect(forUser.filter((event) => event.data.amount.amount === 150)).toHaveLength(1);
    expect(bonuses[0]?.data).toMatchObject({
      amount: { amount: 150, currency: 'USD' },
      reason_code: 'MISSION_COMPLETED',
    });
    expect(bonuses[0]?.causationid).toBe(completing.id);

    const today = await t.inject({ url: '/api/v1/missions', token: user.token });
    expect(today.body.missions.find((m: { id: string }) => m.id === mission.id)).toMatchObject({
      progress: 3,
      count: 3,
      completed_at: expect.any(String),
    });
  });

  it('counts reviews that counted toward a verdict, and nothing after the mission is switched off', async () => {
    const reviews = await createMission({ criteria: { type: 'reviews_done', count: 2 }, xp_reward: 0 });
    const judge = await t.contributor();
    const review = () =>
      t.emit(
        'qc.review.counted.v1',
        { review_id: randomUUID(), submission_id: randomUUID(), judge_id: judge.id, agreed: true },
        { time: now },
      );
    await review();
    expect(await progressOf(reviews.id, judge.id)).toMatchObject([{ progress: 1 }]);

    await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/missions/${reviews.id}`,
      token: admin,
      body: { active: false },
    });
    await review();
    expect(await progressOf(reviews.id, judge.id)).toMatchObject([{ progress: 1, completed_at: null }]);
    const today = await t.inject({ url: '/api/v1/missions', token: judge.token });
    expect(today.body.missions.map((m: { id: string }) => m.id)).not.toContain(reviews.id);
  });

  it('shows only missions whose dates cover the caller’s today', async () => {
    const future = await createMission({
      criteria: { type: 'reviews_done', count: 1 },
      starts_on: '2026-03-05',
    });
    const user = await t.contributor();
    const before = await t.inject({ url: '/api/v1/missions', token: user.token });
    expect(before.body.missions.map((m: { id: string }) => m.id)).not.toContain(future.id);
    now = new Date('2026-03-05T12:00:00Z');
    try {
      const on = await t.inject({ url: '/api/v1/missions', token: user.token });
      expect(on.body.missions.map((m: { id: string }) => m.id)).toContain(future.id);
    } finally {
      now = new Date('2026-03-01T20:00:00Z');
    }
  });
});
