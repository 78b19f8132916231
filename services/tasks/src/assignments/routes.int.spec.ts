import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContributorsTable } from '../db/schema.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

interface Contributor {
  id: string;
  token: string;
}

async function contributor(values: Partial<Insertable<ContributorsTable>> = {}): Promise<Contributor> {
  const { user_id } = await t.fixtures.contributor(values);
  return { id: user_id, token: await t.token({ sub: user_id, role: 'contributor' }) };
}

/** A contributor the read model has never heard of: the default standing. */
async function newcomer(): Promise<Contributor> {
  const id = randomUUID();
  return { id, token: await t.token({ sub: id, role: 'contributor' }) };
}

interface AssignmentBody {
  id: string;
  contributor_id: string;
  claimed_at: string;
  expires_at: string;
}

/** The assignment a successful claim answered with. */
const assignmentOf = (response: { body: unknown }) =>
  (response.body as { assignment: AssignmentBody }).assignment;

const claim = (taskId: string, who: { token: string }, key?: string) =>
  t.inject({
    method: 'POST',
    url: `/api/v1/tasks/${taskId}/claim`,
    token: who.token,
    ...(key ? { key } : {}),
  });

const release = (assignmentId: string, who: { token: string }) =>
  t.inject({ method: 'POST', url: `/api/v1/assignments/${assignmentId}/release`, token: who.token });

const taskRow = (id: string) =>
  t.tasks.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const campaignRow = (id: string) =>
  t.tasks.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

async function campaignWithTask(
  campaign: Parameters<TestTasks['fixtures']['activeCampaign']>[0] = {},
  task: Parameters<TestTasks['fixtures']['task']>[1] = {},
) {
  const c = await t.fixtures.activeCampaign(campaign);
  const tk = await t.fixtures.task(c.id, task);
  return { campaign: c, task: tk };
}

describe('claiming a task', () => {
  it('holds a slot, the reward and a quota unit, fixes the reward and announces the claim', async () => {
    const { campaign, task } = await campaignWithTask(
      {},
      { reward_amount: 250, xp_reward: 15, claim_ttl_seconds: 600 },
    );
    const me = await contributor();

    const response = await claim(task.id, me);

    expect(response.status).toBe(201);
    const assignment = assignmentOf(response);
    expect(assignment).toMatchObject({
      task_id: task.id,
      campaign_id: campaign.id,
      contributor_id: me.id,
      status: 'active',
      reward: { amount: 250, currency: 'USD' },
      xp_reward: 15,
      submission_id: null,
      ended_at: null,
      settled_at: null,
    });
    expect(Date.parse(assignment.expires_at) - Date.parse(assignment.claimed_at)).toBe(600_000);
    expect(Math.abs(Date.parse(assignment.claimed_at) - Date.now())).toBeLessThan(10_000);

    expect((await taskRow(task.id)).slots_taken).toBe(1);
    const money = await campaignRow(campaign.id);
    expect(Number(money.reserved_amount)).toBe(250);
    expect(money.quota_taken).toBe(1);

    const [claimed] = await t.awaitPublished(
      'tasks.assignment.claimed.v1',
      (event) => event.data.assignment_id === assignment.id,
    );
    expect(claimed?.data).toEqual({
      assignment_id: assignment.id,
      task_id: task.id,
      campaign_id: campaign.id,
      contributor_id: me.id,
      company_id: campaign.company_id,
      reward: { amount: 250, currency: 'USD' },
      xp_reward: 15,
      judge_fee: { amount: 0, currency: 'USD' },
      max_judges: 5,
      expires_at: assignment.expires_at,
    });
    expect(claimed?.subject).toBe(assignment.id);

    // A later change to the task does not change what was promised.
    await t.tasks.db.updateTable('tasks').set({ reward_amount: 50 }).where('id', '=', task.id).execute();
    const read = await t.inject({ url: `/api/v1/assignments/${assignment.id}`, token: me.token });
    expect(read.body.assignment.reward).toEqual({ amount: 250, currency: 'USD' });
  });

  it('gives exactly max_submissions of 100 parallel claims by different contributors', async () => {
    const { campaign, task } = await campaignWithTask({}, { max_submissions: 10 });
    const people = await Promise.all(Array.from({ length: 100 }, () => newcomer()));

    const responses = await Promise.all(people.map((who) => claim(task.id, who)));

    const created = responses.filter((r) => r.status === 201);
    const full = responses.filter((r) => r.status === 409 && r.body.code === 'TASK_FULL');
    expect(created).toHaveLength(10);
    expect(full).toHaveLength(90);
    expect(new Set(created.map((r) => assignmentOf(r).contributor_id)).size).toBe(10);

    expect((await taskRow(task.id)).slots_taken).toBe(10);
    const money = await campaignRow(campaign.id);
    expect(Number(money.reserved_amount)).toBe(10 * 100);
    expect(money.quota_taken).toBe(10);
    const rows = await t.tasks.db
      .selectFrom('assignments')
      .select('id')
      .where('task_id', '=', task.id)
      .execute();
    expect(rows).toHaveLength(10);
    expect(await t.written('tasks.assignment.claimed.v1', 'task_id', task.id)).toHaveLength(10);
    await t.awaitPublished('tasks.assignment.claimed.v1', (event) => event.data.task_id === task.id, 10);
  });

  it('lets one contributor hold one claim per task, even when it asks many times at once', async () => {
    const { task } = await campaignWithTask();
    const me = await contributor();

    const responses = await Promise.all(Array.from({ length: 8 }, () => claim(task.id, me)));

    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409 && r.body.code === 'ALREADY_CLAIMED')).toHaveLength(7);
    expect((await taskRow(task.id)).slots_taken).toBe(1);

    const again = await claim(task.id, me);
    expect(again).toMatchObject({ status: 409, body: { code: 'ALREADY_CLAIMED' } });
  });

  it('answers a replay with the same Idempotency-Key with the first claim', async () => {
    const { task } = await campaignWithTask();
    const me = await contributor();
    const key = randomUUID();

    const first = await claim(task.id, me, key);
    const replay = await claim(task.id, me, key);

    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect((await taskRow(task.id)).slots_taken).toBe(1);

    const other = await campaignWithTask();
    const reused = await claim(other.task.id, me, key);
    expect(reused).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  });

  it('refuses a full task with TASK_FULL', async () => {
    const { task } = await campaignWithTask({}, { max_submissions: 1 });
    expect((await claim(task.id, await contributor())).status).toBe(201);

    const refused = await claim(task.id, await contributor());

    expect(refused).toMatchObject({
      status: 409,
      body: { code: 'TASK_FULL', type: 'urn:tessera:problem:task-full' },
    });
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await taskRow(task.id)).slots_taken).toBe(1);
  });

  describe('eligibility', () => {
    it.each([
      ['level', { level: 2 }, { min_level: 3 }, 'LEVEL_TOO_LOW'],
      ['trust', { trust_score: 4.9 }, { min_trust_score: 5 }, 'TRUST_TOO_LOW'],
      ['language', { languages: ['en', 'fr'] }, { required_languages: ['sw'] }, 'LANGUAGE_MISMATCH'],
      ['region', { country: 'NG' }, { regions: ['KE', 'UG'] }, 'REGION_MISMATCH'],
      ['account status', { status: 'suspended' as const }, {}, 'ACCOUNT_NOT_ACTIVE'],
    ])(
      'refuses on %s with TASK_NOT_ELIGIBLE and its reason',
      async (_what, standing, requirements, reason) => {
        const { campaign, task } = await campaignWithTask({}, requirements);
        const who = await contributor(standing);

        const refused = await claim(task.id, who);

        expect(refused).toMatchObject({
          status: 403,
          body: { code: 'TASK_NOT_ELIGIBLE', reasons: [reason] },
        });
        expect((await taskRow(task.id)).slots_taken).toBe(0);
        expect(Number((await campaignRow(campaign.id)).reserved_amount)).toBe(0);
      },
    );

    it('accepts a contributor who meets every requirement, languages by primary subtag', async () => {
      const { task } = await campaignWithTask(
        {},
        { min_level: 3, min_trust_score: 7, required_languages: ['es'], regions: ['MX'] },
      );
      const who = await contributor({ level: 3, trust_score: 7, languages: ['es'], country: 'MX' });
      expect((await claim(task.id, who)).status).toBe(201);
    });

    it('lists every reason that applies', async () => {
      const { task } = await campaignWithTask({}, { min_level: 5, regions: ['KE'] });
      const refused = await claim(task.id, await newcomer());
      expect(refused.body.reasons).toEqual(['LEVEL_TOO_LOW', 'REGION_MISMATCH']);
    });

    it('lets only invited contributors claim in a private campaign', async () => {
      const { campaign, task } = await campaignWithTask({ is_private: true });
      const invited = await contributor();
      await t.tasks.db
        .insertInto('campaign_invitations')
        .values({ campaign_id: campaign.id, user_id: invited.id, invited_by: randomUUID() })
        .execute();

      const refused = await claim(task.id, await contributor());
      expect(refused).toMatchObject({
        status: 403,
        body: { code: 'TASK_NOT_ELIGIBLE', reasons: ['NOT_INVITED'] },
      });
      expect((await claim(task.id, invited)).status).toBe(201);
    });
  });

  describe('availability', () => {
    const past = () => new Date(Date.now() - 60_000);
    const future = () => new Date(Date.now() + 3_600_000);

    it.each([
      ['a paused task', {}, { status: 'paused' as const }],
      ['a completed task', {}, { status: 'completed' as const }],
      ['a task past its deadline', {}, { deadline: past() }],
      ['a paused campaign', { status: 'paused' as const, pause_reason: 'manual' as const }, {}],
      ['a completed campaign', { status: 'completed' as const }, {}],
      ['a campaign that has not started', { start_at: future() }, {}],
      ['a campaign that has ended', { start_at: new Date(Date.now() - 7_200_000), end_at: past() }, {}],
    ])('refuses %s with TASK_NOT_AVAILABLE', async (_what, campaignValues, taskValues) => {
      const { task } = await campaignWithTask(campaignValues, taskValues);

      const refused = await claim(task.id, await contributor());

      expect(refused).toMatchObject({ status: 409, body: { code: 'TASK_NOT_AVAILABLE' } });
      expect((await taskRow(task.id)).slots_taken).toBe(0);
    });

    it('accepts a task whose deadline and campaign window are still open', async () => {
      const { task } = await campaignWithTask({ start_at: past(), end_at: future() }, { deadline: future() });
      expect((await claim(task.id, await contributor())).status).toBe(201);
    });

    it('refuses when the budget cannot pay the reward, and the campaign pauses itself', async () => {
      const { campaign, task } = await campaignWithTask({ funded_amount: 50 }, { reward_amount: 100 });

      const refused = await claim(task.id, await contributor());

      expect(refused).toMatchObject({ status: 409, body: { code: 'CAMPAIGN_BUDGET_EXHAUSTED' } });
      const after = await campaignRow(campaign.id);
      expect(after).toMatchObject({ status: 'paused', pause_reason: 'budget_exhausted', quota_taken: 0 });
      expect(Number(after.reserved_amount)).toBe(0);
      expect((await taskRow(task.id)).slots_taken).toBe(0);
      const [paused] = await t.awaitPublished(
        'tasks.campaign.paused.v1',
        (event) => event.data.campaign_id === campaign.id,
      );
      expect(paused?.data.reason_code).toBe('budget_exhausted');

      const later = await claim(task.id, await contributor());
      expect(later).toMatchObject({ status: 409, body: { code: 'TASK_NOT_AVAILABLE' } });
    });

    it('pauses the campaign after the claim that leaves too little for the next one', async () => {
      const { campaign, task } = await campaignWithTask({ funded_amount: 150 }, { reward_amount: 100 });

      expect((await claim(task.id, await contributor())).status).toBe(201);

      expect(await campaignRow(campaign.id)).toMatchObject({
        status: 'paused',
        pause_reason: 'budget_exhausted',
      });
      await t.awaitPublished('tasks.campaign.paused.v1', (event) => event.data.campaign_id === campaign.id);
    });

    it('pauses the campaign after a claim that fills its cheap task when what is left cannot pay a dearer one', async () => {
      const { campaign, task: cheap } = await campaignWithTask(
        { funded_amount: 350 },
        { reward_amount: 100, max_submissions: 1 },
      );
      await t.fixtures.task(campaign.id, { reward_amount: 300 });

      expect((await claim(cheap.id, await contributor())).status).toBe(201);

      // 250 left: the full cheap task no longer counts, and the dearer one holds 300.
      expect(await campaignRow(campaign.id)).toMatchObject({
        status: 'paused',
        pause_reason: 'budget_exhausted',
      });
    });

    it('leaves the campaign active after a claim whose task the rest can still pay', async () => {
      const { campaign, task } = await campaignWithTask({ funded_amount: 200 }, { reward_amount: 100 });

      expect((await claim(task.id, await contributor())).status).toBe(201);

      expect(await campaignRow(campaign.id)).toMatchObject({ status: 'active', pause_reason: null });
    });

    it('refuses a claim beyond the campaign target with CAMPAIGN_QUOTA_REACHED', async () => {
      const campaign = await t.fixtures.activeCampaign({ target_count: 2 });
      const first = await t.fixtures.task(campaign.id);
      const second = await t.fixtures.task(campaign.id);
      expect((await claim(first.id, await contributor())).status).toBe(201);
      expect((await claim(second.id, await contributor())).status).toBe(201);

      const refused = await claim(first.id, await contributor());

      expect(refused).toMatchObject({ status: 409, body: { code: 'CAMPAIGN_QUOTA_REACHED' } });
      expect((await campaignRow(campaign.id)).quota_taken).toBe(2);
      expect((await taskRow(first.id)).slots_taken).toBe(1);
    });
  });

  describe('who may claim', () => {
    it('refuses company users, company API keys and admins', async () => {
      const { campaign, task } = await campaignWithTask();
      const company = await t.token({ sub: randomUUID(), role: 'company' });
      const admin = await t.token({ sub: randomUUID(), role: 'admin' });
      const apiKey = t.companyKeyToken(campaign.company_id, ['tasks:write']);

      for (const token of [company, admin, apiKey]) {
        expect(await claim(task.id, { token })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      }
      expect((await taskRow(task.id)).slots_taken).toBe(0);
    });

    it('needs a token', async () => {
      const { task } = await campaignWithTask();
      const response = await t.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim` });
      expect(response).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    });

    it('answers 404 TASK_NOT_FOUND for a task that does not exist', async () => {
      const response = await claim(randomUUID(), await contributor());
      expect(response).toMatchObject({ status: 404, body: { code: 'TASK_NOT_FOUND' } });
    });

    it('answers 400 for ids that are not UUIDs', async () => {
      const me = await contributor();
      expect(await claim('not-a-uuid', me)).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED' },
      });
      expect(await release('123', me)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
      expect(await t.inject({ url: '/api/v1/assignments/nope', token: me.token })).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED' },
      });
    });
  });
});

describe('releasing a claim', () => {
  it('frees the slot for someone else, settles the assignment and announces it', async () => {
    const { campaign, task } = await campaignWithTask({}, { max_submissions: 1 });
    const me = await contributor();
    const other = await contributor();
    const claimed = await claim(task.id, me);
    const id = assignmentOf(claimed).id;
    expect(await claim(task.id, other)).toMatchObject({ status: 409, body: { code: 'TASK_FULL' } });

    const released = await release(id, me);

    expect(released.status).toBe(200);
    expect(released.body.assignment).toMatchObject({ id, status: 'released' });
    expect(released.body.assignment.ended_at).toEqual(expect.any(String));
    expect(released.body.assignment.settled_at).toEqual(expect.any(String));
    expect((await taskRow(task.id)).slots_taken).toBe(0);
    const money = await campaignRow(campaign.id);
    expect(Number(money.reserved_amount)).toBe(0);
    expect(money.quota_taken).toBe(0);
    const [event] = await t.awaitPublished(
      'tasks.assignment.released.v1',
      (e) => e.data.assignment_id === id,
    );
    expect(event?.data).toEqual({
      assignment_id: id,
      task_id: task.id,
      campaign_id: campaign.id,
      contributor_id: me.id,
    });

    expect((await claim(task.id, other)).status).toBe(201);
    // The one who released may claim the task again once a slot is free.
    expect(await claim(task.id, me)).toMatchObject({ status: 409, body: { code: 'TASK_FULL' } });
  });

  it('refuses a second release with ASSIGNMENT_NOT_ACTIVE and frees the slot once', async () => {
    const { task } = await campaignWithTask();
    const me = await contributor();
    const id = assignmentOf(await claim(task.id, me)).id;
    await claim(task.id, await contributor());

    expect((await release(id, me)).status).toBe(200);
    expect(await release(id, me)).toMatchObject({ status: 409, body: { code: 'ASSIGNMENT_NOT_ACTIVE' } });
    expect((await taskRow(task.id)).slots_taken).toBe(1);
  });

  it('frees the slot once when the same release is sent many times at once', async () => {
    const { task } = await campaignWithTask();
    const me = await contributor();
    const id = assignmentOf(await claim(task.id, me)).id;
    await claim(task.id, await contributor());

    const responses = await Promise.all(Array.from({ length: 6 }, () => release(id, me)));

    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(5);
    expect((await taskRow(task.id)).slots_taken).toBe(1);
    expect(await t.written('tasks.assignment.released.v1', 'assignment_id', id)).toHaveLength(1);
  });

  it("answers 404 for someone else's assignment and one that does not exist", async () => {
    const { task } = await campaignWithTask();
    const id = assignmentOf(await claim(task.id, await contributor())).id;
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });

    expect(await release(id, await contributor())).toMatchObject({
      status: 404,
      body: { code: 'ASSIGNMENT_NOT_FOUND' },
    });
    expect(await release(id, { token: admin })).toMatchObject({
      status: 404,
      body: { code: 'ASSIGNMENT_NOT_FOUND' },
    });
    expect(await release(randomUUID(), await contributor())).toMatchObject({
      status: 404,
      body: { code: 'ASSIGNMENT_NOT_FOUND' },
    });
    expect((await taskRow(task.id)).slots_taken).toBe(1);
  });
});

describe('reading assignments', () => {
  it("lists the caller's own, newest first, by status, paged by cursor", async () => {
    const me = await contributor();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { task } = await campaignWithTask();
      ids.push(assignmentOf(await claim(task.id, me)).id);
      // Distinct claim times, so the order is the claim order.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const someoneElse = await campaignWithTask();
    await claim(someoneElse.task.id, await contributor());
    await release(ids[1]!, me);
    const newestFirst = [...ids].reverse();

    const first = await t.inject({ url: '/api/v1/assignments?limit=2', token: me.token });
    expect(first.status).toBe(200);
    expect(first.body.assignments.map((a: { id: string }) => a.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.next_cursor).toEqual(expect.any(String));

    const second = await t.inject({
      url: `/api/v1/assignments?limit=2&cursor=${first.body.next_cursor}`,
      token: me.token,
    });
    expect(second.body.assignments.map((a: { id: string }) => a.id)).toEqual(newestFirst.slice(2, 4));
    const third = await t.inject({
      url: `/api/v1/assignments?limit=2&cursor=${second.body.next_cursor}`,
      token: me.token,
    });
    expect(third.body.assignments.map((a: { id: string }) => a.id)).toEqual(newestFirst.slice(4));
    expect(third.body.next_cursor).toBeNull();

    const active = await t.inject({ url: '/api/v1/assignments?status=active', token: me.token });
    expect(active.body.assignments.map((a: { id: string }) => a.id)).toEqual(
      newestFirst.filter((id) => id !== ids[1]),
    );
    const released = await t.inject({ url: '/api/v1/assignments?status=released', token: me.token });
    expect(released.body.assignments.map((a: { id: string }) => a.id)).toEqual([ids[1]]);
  });

  it('refuses a cursor it did not issue and an unknown status', async () => {
    const me = await contributor();
    expect(await t.inject({ url: '/api/v1/assignments?cursor=bogus!', token: me.token })).toMatchObject({
      status: 400,
    });
    expect(await t.inject({ url: '/api/v1/assignments?status=lost', token: me.token })).toMatchObject({
      status: 400,
    });
  });

  it('shows one assignment to its contributor and to admins only', async () => {
    const { task } = await campaignWithTask();
    const me = await contributor();
    const id = assignmentOf(await claim(task.id, me)).id;
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });

    expect(await t.inject({ url: `/api/v1/assignments/${id}`, token: me.token })).toMatchObject({
      status: 200,
      body: { assignment: { id, contributor_id: me.id, status: 'active' } },
    });
    expect(await t.inject({ url: `/api/v1/assignments/${id}`, token: admin })).toMatchObject({
      status: 200,
      body: { assignment: { id } },
    });
    expect(
      await t.inject({ url: `/api/v1/assignments/${id}`, token: (await contributor()).token }),
    ).toMatchObject({
      status: 404,
      body: { code: 'ASSIGNMENT_NOT_FOUND' },
    });
  });
});
