import { randomUUID } from 'node:crypto';
import { type Insertable, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssignmentStatus } from '../assignments/index.ts';
import type { ContributorsTable, TasksTable } from '../db/schema.ts';
import { type ContributorStanding, ineligibility } from '../eligibility/index.ts';
import { type TestTasks, startTestTasks } from '../testing/harness.ts';
import { openFeedDatabase } from './repository.ts';
import { priorityScore } from './score.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks();
});

afterAll(async () => {
  await t?.stop();
});

/**
 * Every test's tasks get rewards in a band of their own and read the feed with
 * min_reward/max_reward set to that band, so tests sharing the service never see each other's tasks.
 */
let bands = 0;
function band() {
  const min = 100_000 + ++bands * 1_000;
  return { min, max: min + 999 };
}
type Band = ReturnType<typeof band>;

async function contributor(values: Partial<Insertable<ContributorsTable>> = {}) {
  const { user_id } = await t.fixtures.contributor(values);
  return { id: user_id, token: await t.token({ sub: user_id, role: 'contributor' }) };
}

async function feed(token: string, range: Band, query: Record<string, string | number> = {}) {
  const params = new URLSearchParams({
    min_reward: String(range.min),
    max_reward: String(range.max),
    limit: '100',
    ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
  });
  const reply = await t.inject({ url: `/api/v1/tasks?${params.toString()}`, token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as { tasks: Array<Record<string, unknown> & { id: string }>; next_cursor: string | null };
}

async function feedIds(token: string, range: Band, query: Record<string, string | number> = {}) {
  return (await feed(token, range, query)).tasks.map((task) => task.id);
}

async function task(campaignId: string, range: Band, values: Partial<Insertable<TasksTable>> = {}) {
  return (await t.fixtures.task(campaignId, { reward_amount: range.min, ...values })).id;
}

async function assign(taskId: string, campaignId: string, contributorId: string, status: AssignmentStatus) {
  await t.tasks.db
    .insertInto('assignments')
    .values({
      id: randomUUID(),
      task_id: taskId,
      campaign_id: campaignId,
      contributor_id: contributorId,
      status,
      reward_amount: 100,
      currency: 'USD',
      xp_reward: 10,
      expires_at: new Date(Date.now() + 3_600_000),
    })
    .execute();
}

describe('the feed shows only what the contributor may do now', () => {
  it('level: a task needing level 3 is hidden from a level-1 contributor', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const open = await task(campaign.id, range, { min_level: 1 });
    const second = await task(campaign.id, range, { min_level: 2 });
    const third = await task(campaign.id, range, { min_level: 3 });
    await task(campaign.id, range, { min_level: 4 });
    const me = await contributor({ level: 1 });
    expect(await feedIds(me.token, range)).toEqual([open]);
    const senior = await contributor({ level: 3 });
    expect((await feedIds(senior.token, range)).sort()).toEqual([open, second, third].sort());
  });

  it('trust: a task needing 5.0 is hidden from a contributor at 4.9', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const open = await task(campaign.id, range, { min_trust_score: 4.9 });
    await task(campaign.id, range, { min_trust_score: 5 });
    const me = await contributor({ trust_score: 4.9 });
    expect(await feedIds(me.token, range)).toEqual([open]);
  });

  it('languages: shown when none are required or one is spoken (primary subtag, any case)', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const any = await task(campaign.id, range, { required_languages: [] });
    const spanish = await task(campaign.id, range, { required_languages: ['es'] });
    const argentine = await task(campaign.id, range, { required_languages: ['de', 'ES-ar'] });
    await task(campaign.id, range, { required_languages: ['de'] });
    const me = await contributor({ languages: ['es-MX', 'fr'] });
    expect((await feedIds(me.token, range)).sort()).toEqual([any, spanish, argentine].sort());
    const nobody = await contributor({ languages: [] });
    expect(await feedIds(nobody.token, range)).toEqual([any]);
  });

  it("regions: shown when none are listed or the contributor's country is among them", async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const anywhere = await task(campaign.id, range, { regions: [] });
    const here = await task(campaign.id, range, { regions: ['KE', 'NG'] });
    await task(campaign.id, range, { regions: ['KE'] });
    const me = await contributor({ country: 'NG' });
    expect((await feedIds(me.token, range)).sort()).toEqual([anywhere, here].sort());
    const stateless = await contributor({ country: null });
    expect(await feedIds(stateless.token, range)).toEqual([anywhere]);
  });

  it('private campaigns: only for invited contributors', async () => {
    const range = band();
    const open = await task((await t.fixtures.activeCampaign()).id, range);
    const hidden = await t.fixtures.activeCampaign({ is_private: true });
    const secret = await task(hidden.id, range);
    const me = await contributor();
    expect(await feedIds(me.token, range)).toEqual([open]);
    await t.tasks.db
      .insertInto('campaign_invitations')
      .values({ campaign_id: hidden.id, user_id: me.id, invited_by: randomUUID() })
      .execute();
    expect((await feedIds(me.token, range)).sort()).toEqual([open, secret].sort());
    expect(await feedIds((await contributor()).token, range)).toEqual([open]);
  });

  it('own assignments: hidden while claimed, submitted or settled; shown again once released or expired', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const me = await contributor();
    const shown: string[] = [await task(campaign.id, range)];
    for (const status of ['active', 'submitted', 'approved', 'rejected'] as const) {
      await assign(await task(campaign.id, range), campaign.id, me.id, status);
    }
    for (const status of ['released', 'expired'] as const) {
      const id = await task(campaign.id, range);
      await assign(id, campaign.id, me.id, status);
      shown.push(id);
    }
    expect((await feedIds(me.token, range)).sort()).toEqual(shown.sort());
    // Someone else's claims hide nothing from me.
    expect(await feedIds((await contributor()).token, range)).toHaveLength(7);
  });

  it('full tasks and passed deadlines are hidden', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const lastSlot = await task(campaign.id, range, { max_submissions: 3, slots_taken: 2 });
    await task(campaign.id, range, { max_submissions: 3, slots_taken: 3 });
    const later = await task(campaign.id, range, { deadline: new Date(Date.now() + 60_000) });
    await task(campaign.id, range, { deadline: new Date(Date.now() - 1_000) });
    const me = await contributor();
    expect((await feedIds(me.token, range)).sort()).toEqual([lastSlot, later].sort());
  });

  it('tasks that are not active are hidden', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const active = await task(campaign.id, range);
    for (const status of ['paused', 'archived', 'completed'] as const)
      await task(campaign.id, range, { status });
    expect(await feedIds((await contributor()).token, range)).toEqual([active]);
  });

  it('campaigns: only active, started, not ended ones', async () => {
    const range = band();
    const hour = 3_600_000;
    const shown = [
      await task((await t.fixtures.activeCampaign()).id, range),
      await task(
        (
          await t.fixtures.activeCampaign({
            start_at: new Date(Date.now() - hour),
            end_at: new Date(Date.now() + hour),
          })
        ).id,
        range,
      ),
    ];
    for (const values of [
      { status: 'paused' as const, pause_reason: 'manual' as const },
      { status: 'draft' as const },
      { status: 'funding' as const },
      { status: 'completed' as const },
      { start_at: new Date(Date.now() + hour) },
      { start_at: new Date(Date.now() - 2 * hour), end_at: new Date(Date.now() - hour) },
    ]) {
      await task((await t.fixtures.activeCampaign(values)).id, range);
    }
    expect((await feedIds((await contributor()).token, range)).sort()).toEqual(shown.sort());
  });

  it("budget: a task whose reward the campaign can no longer promise is hidden, a cheaper one isn't", async () => {
    const range = band();
    // funded − spent − returned − reserved − owed = 500k − 100k − 50k − 100k − (250k − available)
    const available = range.min + 10;
    const campaign = await t.fixtures.activeCampaign({
      funded_amount: 500_000,
      spent_amount: 100_000,
      returned_amount: 50_000,
      reserved_amount: 100_000,
      owed_amount: 250_000 - available,
    });
    const affordable = await task(campaign.id, range, { reward_amount: available });
    await task(campaign.id, range, { reward_amount: available + 1 });
    expect(await feedIds((await contributor()).token, range)).toEqual([affordable]);
  });

  it('quota: a campaign whose target is taken shows nothing', async () => {
    const range = band();
    const left = await t.fixtures.activeCampaign({ target_count: 3, quota_taken: 2 });
    const used = await t.fixtures.activeCampaign({ target_count: 3, quota_taken: 3 });
    const shown = await task(left.id, range);
    await task(used.id, range);
    expect(await feedIds((await contributor()).token, range)).toEqual([shown]);
  });

  it('a suspended or erased contributor gets an empty feed; one the read model never saw gets the defaults', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const beginner = await task(campaign.id, range, { min_level: 1, min_trust_score: 5 });
    await task(campaign.id, range, { min_level: 2 });
    await task(campaign.id, range, { min_trust_score: 5.1 });
    for (const status of ['suspended', 'erased'] as const) {
      const me = await contributor({ status, level: 10, trust_score: 10 });
      expect(await feed(me.token, range)).toEqual({ tasks: [], next_cursor: null });
    }
    // defaultStanding: level 1, trust 5.0, no languages, no country.
    expect(await feedIds(await t.token({ role: 'contributor' }), range)).toEqual([beginner]);
  });
});

describe('ranking, filters and pages', () => {
  it("ranks by the seed's score: priority first, then emptier, then richer; ties by id", async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const base = { max_submissions: 10, slots_taken: 5, is_priority: false, reward_amount: range.min };
    const rows = [
      { ...base, is_priority: true, slots_taken: 9 },
      { ...base, slots_taken: 0 },
      { ...base, slots_taken: 0, reward_amount: range.min + 500 },
      { ...base },
      { ...base },
      { ...base, reward_amount: range.min + 900 },
      { ...base, slots_taken: 8, max_submissions: 100 },
    ];
    const ids = new Map<string, (typeof rows)[number]>();
    for (const values of rows) ids.set(await task(campaign.id, range, values), values);

    const { tasks } = await feed((await contributor()).token, range);
    expect(tasks.map((row) => row.id).sort()).toEqual([...ids.keys()].sort());
    const expected = [...ids.entries()]
      .map(([id, values]) => ({
        id,
        score: priorityScore({ ...values, reward_amount: values.reward_amount }),
      }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : -1));
    expect(tasks.map((row) => row.id)).toEqual(expected.map((row) => row.id));
    // The stored column and the TypeScript mirror agree to the last bit.
    for (const row of tasks) expect(row.priority_score).toBe(expected.find((e) => e.id === row.id)!.score);
    expect(tasks[0]!.is_priority).toBe(true);
    expect(tasks[1]!.reward).toEqual({ amount: range.min + 500, currency: 'USD' });
    const roomy = [...ids.entries()].find(([, values]) => values.max_submissions === 100)![0];
    expect(tasks.find((row) => row.id === roomy)!.slots_left).toBe(92);
  });

  it('filters by type, difficulty and reward bounds', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const rlhfHard = await task(campaign.id, range, {
      task_type: 'rlhf',
      difficulty: 'hard',
      reward_amount: range.min,
    });
    const rlhfEasy = await task(campaign.id, range, {
      task_type: 'rlhf',
      difficulty: 'easy',
      reward_amount: range.min + 100,
    });
    const textHard = await task(campaign.id, range, {
      task_type: 'text',
      difficulty: 'hard',
      reward_amount: range.min + 200,
    });
    const { token } = await contributor();
    const sorted = async (query: Record<string, string | number>, within = range) =>
      (await feedIds(token, within, query)).sort();

    expect(await sorted({ type: 'rlhf' })).toEqual([rlhfHard, rlhfEasy].sort());
    expect(await sorted({ difficulty: 'hard' })).toEqual([rlhfHard, textHard].sort());
    expect(await sorted({ type: 'rlhf', difficulty: 'hard' })).toEqual([rlhfHard]);
    expect(await sorted({ type: 'audio' })).toEqual([]);
    expect(await sorted({}, { min: range.min + 100, max: range.max })).toEqual([rlhfEasy, textHard].sort());
    expect(await sorted({}, { min: range.min, max: range.min + 100 })).toEqual([rlhfHard, rlhfEasy].sort());
    expect(await sorted({}, { min: range.min + 200, max: range.min + 200 })).toEqual([textHard]);
  });

  it('pages with a cursor: every eligible task exactly once, in order, when nothing changes', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    const eligible: string[] = [];
    for (let i = 0; i < 23; i++) {
      eligible.push(
        await task(campaign.id, range, {
          reward_amount: range.min + (i % 4) * 10, // ties on purpose
          is_priority: i % 5 === 0,
          max_submissions: 10,
          slots_taken: i % 3,
        }),
      );
      if (i % 4 === 0) await task(campaign.id, range, { min_level: 99 });
    }
    const { token } = await contributor();
    const all = (await feed(token, range)).tasks.map((row) => row.id);
    expect(all.sort()).toEqual([...eligible].sort());

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof feed>> = await feed(token, range, {
        limit: 5,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.tasks.length).toBeLessThanOrEqual(5);
      pages.push(page.tasks.map((row) => row.id));
      cursor = page.next_cursor;
    } while (cursor && pages.length < 20);
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
    const walked = pages.flat();
    expect(walked).toEqual((await feed(token, range)).tasks.map((row) => row.id));
    expect(new Set(walked).size).toBe(23);
  });

  it('pages through tasks with the largest rewards with the cursors it issued', async () => {
    const top = Number.MAX_SAFE_INTEGER;
    const campaign = await t.fixtures.activeCampaign({ budget_amount: top, funded_amount: top });
    const rewards = [top, top - 1, top - 1_000_000];
    const ids: string[] = [];
    for (const [i, reward_amount] of rewards.entries()) {
      ids.push((await t.fixtures.task(campaign.id, { reward_amount, is_priority: i === 0 })).id);
    }
    const { token } = await contributor();
    // No other test's task is this rich (the query takes at most 15 digits).
    const page = async (cursor: string | null) => {
      const query = `min_reward=999999999999999&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const reply = await t.inject({ url: `/api/v1/tasks?${query}`, token });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body as { tasks: Array<{ id: string }>; next_cursor: string | null };
    };

    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const next: Awaited<ReturnType<typeof page>> = await page(cursor);
      walked.push(...next.tasks.map((row) => row.id));
      cursor = next.next_cursor;
    } while (cursor && walked.length < 10);
    expect(walked).toHaveLength(3);
    expect([...walked].sort()).toEqual([...ids].sort());
    expect(walked[0]).toBe(ids[0]); // the priority task first
  });

  it('default page size is 20 with a next cursor', async () => {
    const range = band();
    const campaign = await t.fixtures.activeCampaign();
    for (let i = 0; i < 21; i++) await task(campaign.id, range);
    const { token } = await contributor();
    const reply = await t.inject({
      url: `/api/v1/tasks?min_reward=${range.min}&max_reward=${range.max}`,
      token,
    });
    expect(reply.body.tasks).toHaveLength(20);
    expect(reply.body.next_cursor).toEqual(expect.any(String));
    for (const row of reply.body.tasks as object[]) {
      expect(Object.keys(row).sort()).toEqual(
        [
          'campaign_id',
          'claim_ttl_seconds',
          'created_at',
          'deadline',
          'description',
          'difficulty',
          'id',
          'input',
          'is_priority',
          'min_level',
          'min_trust_score',
          'priority_score',
          'regions',
          'required_languages',
          'reward',
          'slots_left',
          'status',
          'task_type',
          'time_estimate',
          'title',
          'xp_reward',
        ].sort(),
      );
    }
  });

  it('refuses bad queries with 400', async () => {
    const { token } = await contributor();
    const garbage = [
      'limit=0',
      'limit=101',
      'limit=ten',
      'min_reward=-1',
      'min_reward=1.5',
      'max_reward=abc',
      'min_reward=10&max_reward=5',
      'type=video',
      'difficulty=extreme',
      'cursor=garbage!',
      'cursor=bm90IGpzb24',
      `cursor=${Buffer.from(JSON.stringify({ k: 'list', t: '2025-01-01T00:00:00.000000Z', i: randomUUID() })).toString('base64url')}`,
      `cursor=${Buffer.from(JSON.stringify({ k: 'feed', s: 'high', i: randomUUID() })).toString('base64url')}`,
      'surprise=1',
      `campaign_id=${randomUUID()}`,
    ];
    for (const query of garbage) {
      const reply = await t.inject({ url: `/api/v1/tasks?${query}`, token });
      expect(reply.status, `${query}: ${JSON.stringify(reply.body)}`).toBe(400);
      expect(['VALIDATION_FAILED', 'INVALID_CURSOR', 'INVALID_QUERY']).toContain(reply.body.code);
    }
    expect((await t.inject({ url: '/api/v1/tasks' })).status).toBe(401);
  });

  it('company users, keys and admins must name a campaign: 400 without campaign_id', async () => {
    const companyUser = randomUUID();
    await t.fixtures.member(randomUUID(), companyUser);
    for (const token of [
      await t.token({ sub: companyUser, role: 'company' }),
      t.companyKeyToken(randomUUID(), ['tasks:read']),
      await t.token({ role: 'admin' }),
    ]) {
      const reply = await t.inject({ url: '/api/v1/tasks', token });
      expect([reply.status, reply.body.code]).toEqual([400, 'CAMPAIGN_ID_REQUIRED']);
    }
  });
});

describe('the SQL feed and domain/eligibility.ts agree', () => {
  it('shows a task iff ineligibility() finds no reason, over 50 × 50 random contributor/task pairs', async () => {
    const range = band();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const some = <T>(list: readonly T[], p: number) => list.filter(() => random() < p);
    const tags = ['en', 'en-GB', 'es', 'es-MX', 'FR', 'fr-CA', 'sw', 'yo'] as const;
    const countries = ['NG', 'KE', 'BR', 'IN'] as const;
    const oneDecimal = (max: number) => Math.round(random() * max * 10) / 10;

    const tasks: { id: string; campaignId: string; requirements: Parameters<typeof ineligibility>[1] }[] = [];
    for (let i = 0; i < 50; i++) {
      const requirements = {
        min_level: 1 + Math.floor(random() * 5),
        min_trust_score: oneDecimal(10),
        required_languages: random() < 0.5 ? [] : some(tags, 0.3),
        regions: random() < 0.6 ? [] : some(countries, 0.5),
        is_private: random() < 0.2,
      };
      const campaign = await t.fixtures.activeCampaign({ is_private: requirements.is_private });
      const id = await task(campaign.id, range, {
        min_level: requirements.min_level,
        min_trust_score: requirements.min_trust_score,
        required_languages: requirements.required_languages,
        regions: requirements.regions,
        reward_amount: range.min + i,
      });
      tasks.push({ id, campaignId: campaign.id, requirements });
    }

    let shownPairs = 0;
    for (let j = 0; j < 50; j++) {
      const standing: ContributorStanding = {
        status: random() < 0.06 ? 'suspended' : 'active',
        level: 1 + Math.floor(random() * 6),
        trust_score: oneDecimal(10),
        languages: some(tags, 0.3),
        country: random() < 0.2 ? null : pick(countries),
      };
      const me = await contributor({
        status: standing.status,
        level: standing.level,
        trust_score: standing.trust_score,
        languages: [...standing.languages],
        country: standing.country,
      });
      const invitedTo = new Set<string>();
      for (const { campaignId, requirements } of tasks) {
        if (requirements.is_private && random() < 0.5) {
          await t.tasks.db
            .insertInto('campaign_invitations')
            .values({ campaign_id: campaignId, user_id: me.id, invited_by: randomUUID() })
            .execute();
          invitedTo.add(campaignId);
        }
      }
      const expected = tasks
        .filter(
          (row) => ineligibility(standing, row.requirements, invitedTo.has(row.campaignId)).length === 0,
        )
        .map((row) => row.id)
        .sort();
      const shown = (await feedIds(me.token, range)).sort();
      expect(shown, JSON.stringify(standing)).toEqual(expected);
      shownPairs += shown.length;
    }
    // The random draw must exercise both sides of the rule.
    expect(shownPairs).toBeGreaterThan(50);
    expect(shownPairs).toBeLessThan(50 * 50 - 50);
  });
});

describe("the feed's sessions", () => {
  it('plan without sorts or JIT, on a pool of their own; other sessions keep the defaults', async () => {
    const feedDb = openFeedDatabase(t.config.DATABASE_URL, 1);
    try {
      const feed = await sql<{ s: string; j: string }>`
        select current_setting('enable_sort') as s, current_setting('jit') as j`.execute(feedDb);
      expect(feed.rows[0]).toEqual({ s: 'off', j: 'off' });
      const plain = await sql<{ s: string }>`select current_setting('enable_sort') as s`.execute(t.tasks.db);
      expect(plain.rows[0]?.s).toBe('on');
    } finally {
      await feedDb.destroy();
    }
  });
});

describe("the feed's latency", () => {
  /** The count of contributor feed queries timed so far. */
  async function timed(): Promise<number> {
    const text = (await t.tasks.app.inject({ url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith('tessera_tasks_feed_seconds_count'));
    return Number(line?.split(' ').at(-1) ?? 0);
  }

  it('times each contributor feed query, and not a company listing or a refused query', async () => {
    const before = await timed();
    const { token } = await contributor();
    const range = band();
    await feed(token, range);
    await feed(token, range, { type: 'audio' });
    const refused = await t.inject({ url: '/api/v1/tasks?campaign_id=' + randomUUID(), token });
    expect(refused.status).toBe(400);
    expect(await timed()).toBe(before + 2);
  });
});
