import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awardXp } from '../standing/index.ts';
import { startTestEngagement, type TestEngagement, type TestUser } from '../testing/harness.ts';

// Wednesday of the ISO week that starts Monday 2026-03-02; the month started Sunday 2026-03-01.
let now = new Date('2026-03-04T12:00:00Z');
let t: TestEngagement;

beforeAll(async () => {
  t = await startTestEngagement({}, { clock: () => now });
});
afterAll(() => t?.stop());

async function xp(userId: string, amount: number, at: Date = now) {
  await t.service.db
    .transaction()
    .execute((trx) => awardXp(trx, { userId, amount, source: 'mission', sourceId: randomUUID(), at }));
}

interface Entry {
  rank: number;
  user_id: string;
  level: number;
  value: number;
}

async function board(user: TestUser, query = '') {
  const response = await t.inject({ url: `/api/v1/leaderboards/weekly${query}`, token: user.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { top: Entry[]; me: { rank: number; value: number } | null; around: Entry[] };
}

const brief = (entries: Entry[]) => entries.map(({ rank, user_id, value }) => ({ rank, user_id, value }));

describe('weekly XP board', () => {
  const users: Record<string, TestUser> = {};

  beforeAll(async () => {
    now = new Date('2026-03-04T12:00:00Z');
    for (const name of ['a', 'b', 'c', 'd', 'e', 'late', 'idle']) users[name] = await t.contributor();
    await xp(users.a!.id, 100);
    await xp(users.b!.id, 50);
    await xp(users.b!.id, 30); // 80
    await xp(users.c!.id, 80);
    await xp(users.d!.id, 50);
    await xp(users.e!.id, 10);
    // The edges of the week: the last second of last week and the first of next week do not count.
    await xp(users.late!.id, 1_000, new Date('2026-03-01T23:59:59Z'));
    await xp(users.late!.id, 1_000, new Date('2026-03-09T00:00:00Z'));
    await xp(users.late!.id, 5, new Date('2026-03-02T00:00:00Z'));
  });

  it('lists the top by value with competition ranks, ties by user id, and the caller among their neighbours', async () => {
    const [b, c] = [users.b!.id, users.c!.id].sort();
    const view = await board(users.d!);
    expect(view).toMatchObject({ period: 'weekly', metric: 'xp', period_start: '2026-03-02' });
    expect(brief(view.top)).toEqual([
      { rank: 1, user_id: users.a!.id, value: 100 },
      { rank: 2, user_id: b, value: 80 },
      { rank: 2, user_id: c, value: 80 },
      { rank: 4, user_id: users.d!.id, value: 50 },
      { rank: 5, user_id: users.e!.id, value: 10 },
      { rank: 6, user_id: users.late!.id, value: 5 },
    ]);
    expect(view.top[0]!.level).toBe(2); // 100 XP
    expect(view.me).toEqual({ rank: 4, value: 50 });
    expect(brief(view.around)).toEqual([
      { rank: 2, user_id: b, value: 80 },
      { rank: 2, user_id: c, value: 80 },
      { rank: 4, user_id: users.d!.id, value: 50 },
      { rank: 5, user_id: users.e!.id, value: 10 },
      { rank: 6, user_id: users.late!.id, value: 5 },
    ]);

    const tied = await board(users[c === users.c!.id ? 'c' : 'b']!); // the second of the tie
    expect(tied.me).toEqual({ rank: 2, value: 80 });
    expect(brief(tied.around).map((entry) => entry.rank)).toEqual([1, 2, 2, 4, 5]);

    const first = await board(users.a!, '?limit=2');
    expect(first.top.map((entry) => entry.user_id)).toEqual([users.a!.id, b]);
    expect(brief(first.around).map((entry) => entry.rank)).toEqual([1, 2, 2]);
    expect((await board(users.idle!)).me).toBeNull();
    expect((await board(users.idle!)).around).toEqual([]);
  });

  it('counts XP by the UTC week and month it was earned in, and decay lowers it', async () => {
    const month = await t.inject({ url: '/api/v1/leaderboards/monthly', token: users.late!.token });
    // 1 March (the Sunday before the week) and 9 March (the Monday after) are both in March.
    expect(month.body).toMatchObject({ period_start: '2026-03-01', me: { rank: 1, value: 2_005 } });
    now = new Date('2026-02-28T23:59:59Z'); // February's board has none of it
    const february = await t.inject({ url: '/api/v1/leaderboards/monthly', token: users.late!.token });
    expect(february.body).toMatchObject({ period_start: '2026-02-01', me: null });

    now = new Date('2026-03-09T00:00:00Z'); // next week
    expect((await board(users.late!)).me).toEqual({ rank: 1, value: 1_000 });
    now = new Date('2026-03-04T12:00:00Z');

    const dropper = await t.contributor();
    await xp(dropper.id, 70);
    await xp(dropper.id, -30);
    expect((await board(dropper)).me?.value).toBe(40);
    await xp(dropper.id, -100); // all-time XP stops at zero; the week's net is what it is
    const allTime = await t.inject({ url: '/api/v1/leaderboards/all_time', token: dropper.token });
    expect(allTime.body).toMatchObject({ period: 'all_time', period_start: null, me: { value: 0 } });
  });

  it('ranks only active contributors: not companies, not the suspended (until reinstated), never the erased', async () => {
    const company = randomUUID();
    await t.emit('identity.user.registered.v1', {
      user_id: company,
      role: 'company',
      country: 'NG',
      languages: ['en'],
    });
    await xp(company, 10_000);
    const suspended = await t.contributor();
    await xp(suspended.id, 9_000);
    await t.emit('identity.user.suspended.v1', { user_id: suspended.id, reason_code: 'ABUSE' });
    const erased = await t.contributor();
    await xp(erased.id, 8_000);
    await t.emit('identity.user.erased.v1', { user_id: erased.id });
    await xp(erased.id, 8_000);

    const view = await board(users.a!);
    const ids = view.top.map((entry) => entry.user_id);
    expect(ids).not.toContain(company);
    expect(ids).not.toContain(suspended.id);
    expect(ids).not.toContain(erased.id);
    expect(view.top[0]).toMatchObject({ rank: 1, user_id: users.a!.id });
    expect((await board(suspended)).me).toBeNull();

    await t.emit('identity.user.reinstated.v1', { user_id: suspended.id });
    const back = await board(users.a!);
    expect(back.top[0]).toMatchObject({ rank: 1, user_id: suspended.id, value: 9_000 });
    expect(back.me?.rank).toBe(2);
    await t.emit('identity.user.suspended.v1', { user_id: suspended.id, reason_code: 'ABUSE' }); // off again for the tests below
  });
});

describe('approved board', () => {
  it('counts each approved submission once, in the week it was approved', async () => {
    now = new Date('2026-03-18T12:00:00Z'); // a week of its own
    const [x, y] = [await t.contributor(), await t.contributor()];
    const approve = (userId: string, submissionId = randomUUID(), at = now) =>
      t.emit(
        'submissions.submission.approved.v1',
        {
          submission_id: submissionId,
          task_id: randomUUID(),
          campaign_id: randomUUID(),
          contributor_id: userId,
          reward: { amount: 10, currency: 'USD' },
          xp_reward: 0,
        },
        { time: at },
      );
    const twice = await approve(x.id);
    await t.handle({ ...twice, id: randomUUID() }); // the same approval, another event
    await approve(x.id);
    await approve(y.id);
    await approve(y.id, randomUUID(), new Date('2026-03-15T23:59:59Z')); // last week
    const view = await board(x, '?metric=approved');
    expect(view).toMatchObject({ metric: 'approved', period_start: '2026-03-16', me: { rank: 1, value: 2 } });
    expect(brief(view.top)).toEqual([
      { rank: 1, user_id: x.id, value: 2 },
      { rank: 2, user_id: y.id, value: 1 },
    ]);
    now = new Date('2026-03-04T12:00:00Z');
  });
});

describe('the route', () => {
  it('needs a token and refuses unknown periods, metrics and limits with 400', async () => {
    const user = await t.contributor();
    expect((await t.inject({ url: '/api/v1/leaderboards/weekly' })).status).toBe(401);
    for (const url of [
      '/api/v1/leaderboards/daily',
      '/api/v1/leaderboards/weekly?metric=money',
      '/api/v1/leaderboards/weekly?limit=101',
      '/api/v1/leaderboards/weekly?limit=0',
      '/api/v1/leaderboards/weekly?page=2',
    ]) {
      const response = await t.inject({ url, token: user.token });
      expect(response.status, url).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    const key = t.companyKeyToken(randomUUID(), []);
    const asCompany = await t.inject({ url: '/api/v1/leaderboards/monthly', token: key });
    expect(asCompany.status).toBe(200);
    expect(asCompany.body.me).toBeNull();
  });
});
