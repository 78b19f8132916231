import { randomUUID } from 'node:crypto';
import { type TaskType, taskTypes } from '@tessera/contracts';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestTasks, startTestTasks } from '../testing/harness.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks();
});

afterAll(async () => {
  await t?.stop();
});

const usd = (amount: number) => ({ amount, currency: 'USD' });

const validInputs: Record<TaskType, Record<string, unknown>> = {
  audio: { prompt: 'Read this sentence aloud', language: 'en' },
  image: { prompt: 'Which animal is it?', image_url: 'https://example.com/a.png', labels: ['cat', 'dog'] },
  text: { prompt: 'Describe your street', language: 'es-MX', max_chars: 800 },
  validation: {
    item_url: 'https://example.com/clip.mp3',
    item_kind: 'audio',
    question: 'Is the speech clear?',
    options: ['yes', 'no'],
  },
  linguasense: { text: 'Il pleut des cordes', language: 'fr', question: 'What does it mean?' },
  rlhf: { prompt: 'Explain tides', response_a: 'The moon pulls the sea.', response_b: 'Magic.' },
};

const goldenAnswers = {
  image: { labels: ['cat'] },
  validation: { option: 'no' },
  linguasense: { answer: 'It is raining hard' },
  rlhf: { preferred: 'a' },
} as const;

function taskBody(campaignId: string, type: TaskType = 'text', overrides: Record<string, unknown> = {}) {
  return {
    campaign_id: campaignId,
    title: `A ${type} task`,
    description: 'Do the thing carefully.',
    task_type: type,
    input: validInputs[type],
    reward: usd(150),
    ...overrides,
  };
}

/** The editable fields of a created task, as PUT takes them. */
function putBody(created: unknown, overrides: Record<string, unknown> = {}) {
  const task = created as Record<string, unknown>;
  return {
    title: task.title,
    description: task.description,
    input: task.input,
    difficulty: task.difficulty,
    reward: task.reward,
    xp_reward: task.xp_reward,
    time_estimate: task.time_estimate,
    max_submissions: task.max_submissions,
    judges_required: task.judges_required,
    min_trust_score: task.min_trust_score,
    min_level: task.min_level,
    required_languages: task.required_languages,
    regions: task.regions,
    is_priority: task.is_priority,
    deadline: task.deadline,
    claim_ttl_seconds: task.claim_ttl_seconds,
    is_golden: task.is_golden,
    golden_answer: task.golden_answer,
    ...overrides,
  };
}

/** A campaign and a manager of its company. */
async function campaignWithManager(values: Parameters<TestTasks['fixtures']['activeCampaign']>[0] = {}) {
  const campaign = await t.fixtures.activeCampaign(values);
  const managerId = randomUUID();
  await t.fixtures.member(campaign.company_id, managerId, 'manager');
  const manager = await t.token({ sub: managerId, role: 'company' });
  return { ...campaign, manager, managerId };
}

/** Every event ever written for the campaign (the outbox keeps them all). */
async function outboxFor(campaignId: string) {
  return t.tasks.db
    .selectFrom('outbox')
    .select(['type', 'subject'])
    .where(sql<boolean>`payload -> 'data' ->> 'campaign_id' = ${campaignId}`)
    .where('type', 'like', 'tasks.task.%')
    .orderBy('position')
    .execute();
}

async function taskRows(campaignId: string) {
  return t.tasks.db.selectFrom('tasks').selectAll().where('campaign_id', '=', campaignId).execute();
}

const contributorToken = async () => {
  const { user_id } = await t.fixtures.contributor({ level: 10, trust_score: 10 });
  return t.token({ sub: user_id, role: 'contributor' });
};

describe('POST /api/v1/tasks', () => {
  it('asks for trust 3.0 when the publisher says nothing: a newcomer with a rejection may still claim it', async () => {
    const { id: campaignId, manager } = await campaignWithManager();
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: manager,
      body: taskBody(campaignId),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.task.min_trust_score).toBe(3);
    // Trust starts at 5.0; one rejection takes 0.15 off.
    const claimAs = async (trust_score: number) => {
      const { user_id } = await t.fixtures.contributor({ level: 1, trust_score });
      return t.inject({
        method: 'POST',
        url: `/api/v1/tasks/${created.body.task.id}/claim`,
        token: await t.token({ sub: user_id, role: 'contributor' }),
      });
    };
    const claimed = await claimAs(4.85);
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(201);
    // Below it, the refusal names trust.
    const refused = await claimAs(2.9);
    expect(refused.status).toBe(403);
    expect(refused.body.reasons).toContain('TRUST_TOO_LOW');
  });

  it.each(taskTypes)(
    'publishes a %s task with its typed input, and announces the full snapshot',
    async (type) => {
      const { id: campaignId, company_id, manager, managerId } = await campaignWithManager();
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        token: manager,
        body: taskBody(campaignId, type, {
          required_languages: ['es-MX', 'ES', 'en'],
          regions: ['ng', 'NG', 'KE'],
          time_estimate: '15-30 minutes',
          deadline: new Date(Date.now() + 86_400_000).toISOString(),
        }),
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const task = created.body.task;
      expect(task).toMatchObject({
        campaign_id: campaignId,
        company_id,
        task_type: type,
        status: 'active',
        reward: usd(150),
        difficulty: 'medium',
        xp_reward: 10,
        max_submissions: 1000,
        judges_required: 3,
        judge_fee: usd(0),
        max_judges: 5,
        min_trust_score: 3,
        min_level: 1,
        required_languages: ['es', 'en'],
        regions: ['NG', 'KE'],
        is_priority: false,
        is_golden: false,
        golden_answer: null,
        claim_ttl_seconds: t.config.TASKS_DEFAULT_CLAIM_TTL_SECONDS,
        slots_taken: 0,
        slots_left: 1000,
        created_by: managerId,
        time_estimate: '15-30 minutes',
      });
      // The stored input is the parsed one, with the type's defaults filled in.
      expect(task.input).toMatchObject(validInputs[type]);
      expect(task.priority_score).toBeCloseTo(0 + 10 + 150 / 1000, 9);

      const [event] = await t.awaitPublished('tasks.task.published.v1', (e) => e.data.task_id === task.id);
      expect(event!.subject).toBe(task.id);
      expect(event!.data).toEqual({
        task_id: task.id,
        campaign_id: campaignId,
        company_id,
        title: task.title,
        task_type: type,
        difficulty: 'medium',
        input: task.input,
        reward: usd(150),
        xp_reward: 10,
        max_submissions: 1000,
        judges_required: 3,
        judge_fee: usd(0),
        max_judges: 5,
        min_trust_score: 3,
        min_level: 1,
        required_languages: ['es', 'en'],
        regions: ['NG', 'KE'],
        is_priority: false,
        is_golden: false,
        golden_answer: null,
        claim_ttl_seconds: t.config.TASKS_DEFAULT_CLAIM_TTL_SECONDS,
        deadline: task.deadline,
        status: 'active',
      });
      expect(await taskRows(campaignId)).toHaveLength(1);
    },
  );

  it.each(Object.entries(goldenAnswers))(
    'publishes a golden %s task: the company and the event see its answer',
    async (type, answer) => {
      const { id: campaignId, manager } = await campaignWithManager();
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        token: manager,
        body: taskBody(campaignId, type as TaskType, { is_golden: true, golden_answer: answer }),
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.task).toMatchObject({ is_golden: true, golden_answer: answer });
      const [event] = await t.awaitPublished(
        'tasks.task.published.v1',
        (e) => e.data.task_id === created.body.task.id,
      );
      expect(event!.data).toMatchObject({ is_golden: true, golden_answer: answer });
    },
  );

  const invalidInputs: [TaskType, Record<string, unknown>, string][] = [
    ['audio', { prompt: 'Say it', language: 'not a language!' }, 'input.language'],
    [
      'audio',
      { prompt: 'Say it', language: 'en', min_duration_s: 60, max_duration_s: 10 },
      'input.min_duration_s',
    ],
    ['image', { prompt: 'Label', image_url: 'javascript:alert(1)' }, 'input.image_url'],
    ['image', { prompt: 'Label', labels: ['cat', 'cat'] }, 'input.labels'],
    ['text', { prompt: '   ', language: 'en' }, 'input.prompt'],
    ['text', { prompt: 'Write', language: 'en', min_chars: 900, max_chars: 10 }, 'input.min_chars'],
    ['validation', { ...validInputs.validation, options: ['only one'] }, 'input.options'],
    ['validation', { ...validInputs.validation, item_kind: 'video' }, 'input.item_kind'],
    ['linguasense', { ...validInputs.linguasense, question: undefined }, 'input.question'],
    ['linguasense', { ...validInputs.linguasense, unexpected: true }, 'input'],
    ['rlhf', { prompt: 'Compare', response_a: 'A' }, 'input.response_b'],
    ['rlhf', validInputs.text, 'input'],
  ];

  it.each(invalidInputs)(
    'refuses a bad %s input with 422 INVALID_TASK_INPUT, saving and announcing nothing (%#)',
    async (type, input, path) => {
      const { id: campaignId, manager } = await campaignWithManager();
      const refused = await t.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        token: manager,
        body: taskBody(campaignId, type, { input }),
      });
      expect(refused.status, JSON.stringify(refused.body)).toBe(422);
      expect(refused.body.code).toBe('INVALID_TASK_INPUT');
      expect(refused.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(await taskRows(campaignId)).toEqual([]);
      expect(await outboxFor(campaignId)).toEqual([]);
    },
  );

  it.each([
    ['audio', { is_golden: true, golden_answer: { answer: 'x' } }, 422, 'GOLDEN_NOT_SUPPORTED'],
    ['text', { is_golden: true, golden_answer: { answer: 'x' } }, 422, 'GOLDEN_NOT_SUPPORTED'],
    ['rlhf', { is_golden: true }, 422, 'INVALID_GOLDEN_ANSWER'],
    ['rlhf', { is_golden: true, golden_answer: { preferred: 'c' } }, 422, 'INVALID_GOLDEN_ANSWER'],
    ['validation', { is_golden: true, golden_answer: { option: 'maybe' } }, 422, 'INVALID_GOLDEN_ANSWER'],
    ['rlhf', { golden_answer: { preferred: 'a' } }, 422, 'INVALID_GOLDEN_ANSWER'],
    ['text', { reward: { amount: 1.5, currency: 'USD' } }, 400, 'VALIDATION_FAILED'],
    ['text', { reward: { amount: 0, currency: 'USD' } }, 400, 'VALIDATION_FAILED'],
    ['text', { reward: { amount: 100, currency: 'EUR' } }, 422, 'CURRENCY_MISMATCH'],
    ['text', { reward: usd(2_000_000) }, 422, 'REWARD_EXCEEDS_BUDGET'],
    ['text', { min_trust_score: 5.25 }, 400, 'VALIDATION_FAILED'],
    ['text', { max_submissions: 0 }, 400, 'VALIDATION_FAILED'],
    ['text', { judges_required: 16 }, 400, 'VALIDATION_FAILED'],
    ['text', { claim_ttl_seconds: 30 }, 400, 'VALIDATION_FAILED'],
    ['text', { time_estimate: 'x'.repeat(51) }, 400, 'VALIDATION_FAILED'],
    ['text', { title: '' }, 400, 'VALIDATION_FAILED'],
    ['text', { required_languages: ['english'] }, 400, 'VALIDATION_FAILED'],
    ['text', { regions: ['NGA'] }, 400, 'VALIDATION_FAILED'],
    ['text', { deadline: new Date(Date.now() - 60_000).toISOString() }, 422, 'DEADLINE_PASSED'],
    ['text', { surprise: 1 }, 400, 'VALIDATION_FAILED'],
  ] as const)('refuses a %s task with %j: %i %s, saving nothing', async (type, overrides, status, code) => {
    const { id: campaignId, manager } = await campaignWithManager();
    const refused = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: manager,
      body: taskBody(campaignId, type, overrides),
    });
    expect([refused.status, refused.body.code], JSON.stringify(refused.body)).toEqual([status, code]);
    expect(await taskRows(campaignId)).toEqual([]);
    expect(await outboxFor(campaignId)).toEqual([]);
  });

  it('refuses tasks in a campaign that is over: 409 CAMPAIGN_CLOSED', async () => {
    for (const status of ['completed', 'cancelled'] as const) {
      const { id: campaignId, manager } = await campaignWithManager({ status });
      const refused = await t.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        token: manager,
        body: taskBody(campaignId),
      });
      expect([refused.status, refused.body.code]).toEqual([409, 'CAMPAIGN_CLOSED']);
    }
    for (const status of ['draft', 'funding', 'paused'] as const) {
      const { id: campaignId, manager } = await campaignWithManager({ status, funded_amount: 0 });
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        token: manager,
        body: taskBody(campaignId),
      });
      expect(created.status, `${status}: ${JSON.stringify(created.body)}`).toBe(201);
    }
  });

  it('lets only managers of the campaign, its tasks:write keys and admins publish', async () => {
    const { id: campaignId, company_id } = await campaignWithManager();
    const post = (token: string) =>
      t.inject({ method: 'POST', url: '/api/v1/tasks', token, body: taskBody(campaignId) });

    expect(
      (await t.inject({ method: 'POST', url: '/api/v1/tasks', body: taskBody(campaignId) })).status,
    ).toBe(401);
    expect((await post(await t.token({ role: 'contributor' }))).body.code).toBe('FORBIDDEN');
    expect((await post(await t.token({ role: 'contributor' }))).status).toBe(403);

    const outsiderId = randomUUID();
    await t.fixtures.member(randomUUID(), outsiderId, 'manager');
    const outsider = await post(await t.token({ sub: outsiderId, role: 'company' }));
    expect([outsider.status, outsider.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);

    const viewerId = randomUUID();
    await t.fixtures.member(company_id, viewerId, 'viewer');
    const viewer = await post(await t.token({ sub: viewerId, role: 'company' }));
    expect([viewer.status, viewer.body.code]).toEqual([403, 'FORBIDDEN']);

    const readKey = await post(t.companyKeyToken(company_id, ['tasks:read', 'campaigns:write']));
    expect([readKey.status, readKey.body.code]).toEqual([403, 'FORBIDDEN']);
    const otherKey = await post(t.companyKeyToken(randomUUID(), ['tasks:write']));
    expect([otherKey.status, otherKey.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    expect(await taskRows(campaignId)).toEqual([]);

    const key = await post(t.companyKeyToken(company_id, ['tasks:write']));
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    const admin = await post(await t.token({ role: 'admin' }));
    expect(admin.status, JSON.stringify(admin.body)).toBe(201);

    const unknown = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: await t.token({ role: 'admin' }),
      body: taskBody(randomUUID()),
    });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    expect(await taskRows(campaignId)).toHaveLength(2);
  });

  it('answers a replay with the same Idempotency-Key with the first task, once; another body is refused', async () => {
    const { id: campaignId, manager } = await campaignWithManager();
    const key = `create-${randomUUID()}`;
    const body = taskBody(campaignId, 'rlhf');
    const first = await t.inject({ method: 'POST', url: '/api/v1/tasks', token: manager, key, body });
    const second = await t.inject({ method: 'POST', url: '/api/v1/tasks', token: manager, key, body });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(await taskRows(campaignId)).toHaveLength(1);
    await t.awaitPublished('tasks.task.published.v1', (e) => e.data.task_id === first.body.task.id);
    expect(await outboxFor(campaignId)).toEqual([
      { type: 'tasks.task.published.v1', subject: first.body.task.id },
    ]);

    const other = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: manager,
      key,
      body: { ...body, title: 'Another title' },
    });
    expect([other.status, other.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await taskRows(campaignId)).toHaveLength(1);
  });
});

describe('GET /api/v1/tasks/:id', () => {
  it('shows a golden task to contributors exactly like any other task', async () => {
    const { id: campaignId, manager } = await campaignWithManager();
    const golden = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: manager,
      body: taskBody(campaignId, 'rlhf', {
        is_golden: true,
        golden_answer: { preferred: 'b' },
        reward: usd(98_761),
      }),
    });
    const plain = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: manager,
      body: taskBody(campaignId, 'rlhf', { reward: usd(98_761) }),
    });
    expect([golden.status, plain.status]).toEqual([201, 201]);
    const contributor = await contributorToken();

    const seenGolden = await t.inject({ url: `/api/v1/tasks/${golden.body.task.id}`, token: contributor });
    const seenPlain = await t.inject({ url: `/api/v1/tasks/${plain.body.task.id}`, token: contributor });
    expect(seenGolden.status).toBe(200);
    expect(seenGolden.body.task).not.toHaveProperty('is_golden');
    expect(seenGolden.body.task).not.toHaveProperty('golden_answer');
    expect(JSON.stringify(seenGolden.body)).not.toContain('golden');
    expect(Object.keys(seenGolden.body.task as object).sort()).toEqual(
      Object.keys(seenPlain.body.task as object).sort(),
    );
    const { id: _g, created_at: _gc, ...goldenRest } = seenGolden.body.task;
    const { id: _p, created_at: _pc, ...plainRest } = seenPlain.body.task;
    expect(goldenRest).toEqual(plainRest);

    // The feed too.
    const feed = await t.inject({
      url: '/api/v1/tasks?min_reward=98761&max_reward=98761',
      token: contributor,
    });
    expect(feed.status).toBe(200);
    const ids = feed.body.tasks.map((task: { id: string }) => task.id);
    expect(ids).toContain(golden.body.task.id);
    expect(ids).toContain(plain.body.task.id);
    expect(JSON.stringify(feed.body)).not.toContain('golden');

    // The company sees the answer.
    const company = await t.inject({ url: `/api/v1/tasks/${golden.body.task.id}`, token: manager });
    expect(company.body.task).toMatchObject({ is_golden: true, golden_answer: { preferred: 'b' } });
  });

  it("shows the company view to the company's members, keys and admins, and nothing to others", async () => {
    const { id: campaignId, company_id, manager } = await campaignWithManager();
    const { id } = await t.fixtures.task(campaignId, {
      is_golden: true,
      task_type: 'rlhf',
      input: JSON.stringify(validInputs.rlhf),
      golden_answer: JSON.stringify({ preferred: 'tie' }),
    });
    const viewerId = randomUUID();
    await t.fixtures.member(company_id, viewerId, 'viewer');
    for (const token of [
      manager,
      await t.token({ sub: viewerId, role: 'company' }),
      t.companyKeyToken(company_id, ['tasks:read']),
      await t.token({ role: 'admin' }),
    ]) {
      const seen = await t.inject({ url: `/api/v1/tasks/${id}`, token });
      expect(seen.status).toBe(200);
      expect(seen.body.task).toMatchObject({
        id,
        company_id,
        is_golden: true,
        golden_answer: { preferred: 'tie' },
      });
    }
    for (const token of [
      await t.token({ role: 'company' }),
      t.companyKeyToken(company_id, ['campaigns:read']),
      t.companyKeyToken(randomUUID(), ['tasks:read']),
    ]) {
      const hidden = await t.inject({ url: `/api/v1/tasks/${id}`, token });
      expect([hidden.status, hidden.body.code]).toEqual([404, 'TASK_NOT_FOUND']);
    }
    const missing = await t.inject({ url: `/api/v1/tasks/${randomUUID()}`, token: manager });
    expect([missing.status, missing.body.code]).toEqual([404, 'TASK_NOT_FOUND']);
    expect((await t.inject({ url: '/api/v1/tasks/not-a-uuid', token: manager })).status).toBe(400);
  });

  it('hides from contributors tasks that are not active and private campaigns they are not invited to', async () => {
    const contributorId = (await t.fixtures.contributor()).user_id;
    const contributor = await t.token({ sub: contributorId, role: 'contributor' });
    const open = await t.fixtures.activeCampaign();
    const paused = await t.fixtures.task(open.id, { status: 'paused' });
    const archived = await t.fixtures.task(open.id, { status: 'archived' });
    const active = await t.fixtures.task(open.id);
    const hidden = await t.fixtures.activeCampaign({ is_private: true });
    const privateTask = await t.fixtures.task(hidden.id);

    const status = async (id: string) =>
      (await t.inject({ url: `/api/v1/tasks/${id}`, token: contributor })).status;
    expect(await status(active.id)).toBe(200);
    expect(await status(paused.id)).toBe(404);
    expect(await status(archived.id)).toBe(404);
    expect(await status(privateTask.id)).toBe(404);

    await t.tasks.db
      .insertInto('campaign_invitations')
      .values({ campaign_id: hidden.id, user_id: contributorId, invited_by: randomUUID() })
      .execute();
    expect(await status(privateTask.id)).toBe(200);

    // A contributor who claimed a task before it was paused may still read it.
    await t.tasks.db
      .insertInto('assignments')
      .values({
        id: randomUUID(),
        task_id: paused.id,
        campaign_id: open.id,
        contributor_id: contributorId,
        status: 'active',
        reward_amount: 100,
        currency: 'USD',
        xp_reward: 10,
        expires_at: new Date(Date.now() + 3_600_000),
      })
      .execute();
    expect(await status(paused.id)).toBe(200);
  });

  it('hides from contributors the tasks of a campaign that is not active, like an unknown id', async () => {
    const contributorId = (await t.fixtures.contributor()).user_id;
    const contributor = await t.token({ sub: contributorId, role: 'contributor' });
    const unknown = await t.inject({ url: `/api/v1/tasks/${randomUUID()}`, token: contributor });
    for (const status of ['draft', 'funding', 'paused', 'completed', 'cancelled'] as const) {
      const campaign = await t.fixtures.activeCampaign({ status });
      const task = await t.fixtures.task(campaign.id);
      const seen = await t.inject({ url: `/api/v1/tasks/${task.id}`, token: contributor });
      expect([seen.status, seen.body.code, seen.body.detail], status).toEqual([
        404,
        unknown.body.code,
        unknown.body.detail,
      ]);
      // The company and admins still see it.
      const managerId = randomUUID();
      await t.fixtures.member(campaign.company_id, managerId, 'manager');
      for (const token of [
        await t.token({ sub: managerId, role: 'company' }),
        await t.token({ role: 'admin' }),
      ]) {
        expect((await t.inject({ url: `/api/v1/tasks/${task.id}`, token })).status, status).toBe(200);
      }
    }
  });
});

describe('PUT /api/v1/tasks/:id', () => {
  async function publish(overrides: Record<string, unknown> = {}) {
    const campaign = await campaignWithManager();
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: campaign.manager,
      body: taskBody(campaign.id, 'validation', { reward: usd(98_762), min_trust_score: 0, ...overrides }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { ...campaign, task: created.body.task as { id: string; campaign_id: string; title: string } };
  }

  it('replaces the editable fields and announces the new snapshot', async () => {
    const { task, manager } = await publish();
    const updated = await t.inject({
      method: 'PUT',
      url: `/api/v1/tasks/${task.id}`,
      token: manager,
      body: putBody(task, {
        title: 'Better title',
        reward: usd(250),
        is_priority: true,
        required_languages: ['PT-br'],
        is_golden: true,
        golden_answer: { option: 'yes' },
      }),
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.task).toMatchObject({
      id: task.id,
      title: 'Better title',
      reward: usd(250),
      is_priority: true,
      required_languages: ['pt'],
      status: 'active',
      is_golden: true,
      golden_answer: { option: 'yes' },
    });
    expect(updated.body.task.priority_score).toBeCloseTo(10 + 10 + 0.25, 9);
    const [event] = await t.awaitPublished('tasks.task.updated.v1', (e) => e.data.task_id === task.id);
    expect(event!.data).toMatchObject({
      reward: usd(250),
      title: 'Better title',
      is_golden: true,
      status: 'active',
    });
    const types = (await outboxFor(task.campaign_id)).map((row) => row.type);
    expect(types).toEqual(['tasks.task.published.v1', 'tasks.task.updated.v1']);
  });

  it('pauses (gone from the feed) and resumes a task, announcing each', async () => {
    const { task, manager } = await publish({ reward: usd(98_763) });
    const contributor = await contributorToken();
    const feedIds = async () => {
      const reply = await t.inject({
        url: '/api/v1/tasks?min_reward=98763&max_reward=98763',
        token: contributor,
      });
      return (reply.body.tasks as { id: string }[]).map((row) => row.id);
    };
    expect(await feedIds()).toEqual([task.id]);

    const paused = await t.inject({
      method: 'PUT',
      url: `/api/v1/tasks/${task.id}`,
      token: manager,
      body: putBody(task, { status: 'paused' }),
    });
    expect([paused.status, paused.body.task?.status]).toEqual([200, 'paused']);
    await t.awaitPublished('tasks.task.paused.v1', (e) => e.data.task_id === task.id);
    expect(await feedIds()).toEqual([]);

    const resumed = await t.inject({
      method: 'PUT',
      url: `/api/v1/tasks/${task.id}`,
      token: manager,
      body: putBody(task, { status: 'active' }),
    });
    expect([resumed.status, resumed.body.task?.status]).toEqual([200, 'active']);
    await t.awaitPublished('tasks.task.resumed.v1', (e) => e.data.task_id === task.id);
    expect(await feedIds()).toEqual([task.id]);
    expect((await outboxFor(task.campaign_id)).map((row) => row.type)).toEqual([
      'tasks.task.published.v1',
      'tasks.task.updated.v1',
      'tasks.task.paused.v1',
      'tasks.task.updated.v1',
      'tasks.task.resumed.v1',
    ]);
  });

  it('refuses max_submissions below the slots already taken: 409 MAX_BELOW_TAKEN', async () => {
    const { task, manager } = await publish({ max_submissions: 10 });
    await t.tasks.db.updateTable('tasks').set({ slots_taken: 5 }).where('id', '=', task.id).execute();
    const refused = await t.inject({
      method: 'PUT',
      url: `/api/v1/tasks/${task.id}`,
      token: manager,
      body: putBody(task, { max_submissions: 4 }),
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'MAX_BELOW_TAKEN']);
    const exact = await t.inject({
      method: 'PUT',
      url: `/api/v1/tasks/${task.id}`,
      token: manager,
      body: putBody(task, { max_submissions: 5 }),
    });
    expect(exact.status).toBe(200);
    expect(exact.body.task).toMatchObject({ max_submissions: 5, slots_taken: 5, slots_left: 0 });
  });

  it('refuses bad input and other callers, changing nothing', async () => {
    const { task, manager, company_id } = await publish();
    const put = (token: string, body: unknown) =>
      t.inject({ method: 'PUT', url: `/api/v1/tasks/${task.id}`, token, body });
    const cases: [string, unknown, number, string][] = [
      [
        manager,
        putBody(task, { input: { ...validInputs.validation, options: [] } }),
        422,
        'INVALID_TASK_INPUT',
      ],
      [manager, putBody(task, { reward: { amount: 10, currency: 'EUR' } }), 422, 'CURRENCY_MISMATCH'],
      [manager, putBody(task, { status: 'archived' }), 400, 'VALIDATION_FAILED'],
      // Postgres cannot store these: the kit refuses them at the edge instead of a 500.
      [manager, putBody(task, { title: 'a\u0000b' }), 400, 'INVALID_CHARACTERS'],
      [manager, putBody(task, { description: 'half an emoji \uD83D' }), 400, 'INVALID_CHARACTERS'],
      [manager, { ...putBody(task), task_type: 'rlhf' }, 400, 'VALIDATION_FAILED'],
      [manager, { ...putBody(task), campaign_id: randomUUID() }, 400, 'VALIDATION_FAILED'],
      [await t.token({ role: 'contributor' }), putBody(task), 403, 'FORBIDDEN'],
      [await t.token({ role: 'company' }), putBody(task), 404, 'TASK_NOT_FOUND'],
      [t.companyKeyToken(company_id, ['tasks:read']), putBody(task), 403, 'FORBIDDEN'],
    ];
    for (const [token, body, status, code] of cases) {
      const refused = await put(token, body);
      expect([refused.status, refused.body.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const [row] = await taskRows(task.campaign_id);
    expect(row).toMatchObject({ title: task.title, status: 'active' });
    expect(Number(row!.reward_amount)).toBe(98_762);
    expect((await outboxFor(task.campaign_id)).map((r) => r.type)).toEqual(['tasks.task.published.v1']);

    const byKey = await put(
      t.companyKeyToken(company_id, ['tasks:write']),
      putBody(task, { title: 'By key' }),
    );
    expect([byKey.status, byKey.body.task?.title]).toEqual([200, 'By key']);
  });
});

describe('DELETE /api/v1/tasks/:id', () => {
  it('archives the task (the row stays), announces it closed, and it can no longer change', async () => {
    const { id: campaignId, manager } = await campaignWithManager();
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      token: manager,
      body: taskBody(campaignId),
    });
    const id = created.body.task.id;

    const archived = await t.inject({ method: 'DELETE', url: `/api/v1/tasks/${id}`, token: manager });
    expect([archived.status, archived.body.task?.status]).toEqual([200, 'archived']);
    const [event] = await t.awaitPublished('tasks.task.closed.v1', (e) => e.data.task_id === id);
    expect(event!.data).toMatchObject({ task_id: id, campaign_id: campaignId, reason_code: 'archived' });
    expect(await taskRows(campaignId)).toHaveLength(1);

    const again = await t.inject({ method: 'DELETE', url: `/api/v1/tasks/${id}`, token: manager });
    expect([again.status, again.body.task?.status]).toEqual([200, 'archived']);
    const edit = await t.inject({
      method: 'PUT',
      url: `/api/v1/tasks/${id}`,
      token: manager,
      body: putBody(created.body.task, { status: 'active' }),
    });
    expect([edit.status, edit.body.code]).toEqual([409, 'TASK_CLOSED']);
    expect((await outboxFor(campaignId)).map((row) => row.type)).toEqual([
      'tasks.task.published.v1',
      'tasks.task.closed.v1',
    ]);

    const contributor = await contributorToken();
    expect((await t.inject({ url: `/api/v1/tasks/${id}`, token: contributor })).status).toBe(404);
    const refused = await t.inject({ method: 'DELETE', url: `/api/v1/tasks/${id}`, token: contributor });
    expect(refused.status).toBe(403);
  });
});

describe("GET /api/v1/tasks?campaign_id= (a campaign's tasks, for its company)", () => {
  it('lists newest first, page by page, to members, keys and admins only', async () => {
    const { id: campaignId, company_id, manager } = await campaignWithManager();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        token: manager,
        body: taskBody(campaignId, 'text', { title: `Task ${i}` }),
      });
      ids.push((created.body.task as { id: string }).id);
    }
    // Two fixture tasks created in the same transaction share created_at to the microsecond.
    await t.tasks.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 2; i++) {
        const id = randomUUID();
        await trx
          .insertInto('tasks')
          .values({
            id,
            campaign_id: campaignId,
            company_id,
            title: `Same time ${i}`,
            description: 'x',
            task_type: 'text',
            input: JSON.stringify(validInputs.text),
            difficulty: 'easy',
            reward_amount: 10,
            currency: 'USD',
            xp_reward: 1,
            max_submissions: 1,
            judges_required: 1,
            min_trust_score: 0,
            min_level: 1,
            claim_ttl_seconds: 60,
            status: 'active',
            created_by: randomUUID(),
          })
          .execute();
        ids.push(id);
      }
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const url: string = `/api/v1/tasks?campaign_id=${campaignId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const reply = await t.inject({ url, token: manager });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body.tasks.length).toBeLessThanOrEqual(2);
      seen.push(...(reply.body.tasks as { id: string }[]).map((task) => task.id));
      for (const task of reply.body.tasks) expect(task).toHaveProperty('is_golden');
      cursor = reply.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(ids));
    // Newest first: the five published in order come out reversed, after the two fixtures.
    expect(seen.slice(2)).toEqual(ids.slice(0, 5).reverse());

    const filtered = await t.inject({
      url: `/api/v1/tasks?campaign_id=${campaignId}&max_reward=10`,
      token: manager,
    });
    expect(filtered.body.tasks).toHaveLength(2);

    for (const token of [t.companyKeyToken(company_id, ['tasks:read']), await t.token({ role: 'admin' })]) {
      expect(
        (await t.inject({ url: `/api/v1/tasks?campaign_id=${campaignId}`, token })).body.tasks,
      ).toHaveLength(7);
    }
    const outsider = await t.inject({
      url: `/api/v1/tasks?campaign_id=${campaignId}`,
      token: await t.token({ role: 'company' }),
    });
    expect([outsider.status, outsider.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    const feedCursor = await t.inject({
      url: `/api/v1/tasks?campaign_id=${campaignId}&cursor=${Buffer.from(JSON.stringify({ k: 'feed', s: 1, i: randomUUID() })).toString('base64url')}`,
      token: manager,
    });
    expect([feedCursor.status, feedCursor.body.code]).toEqual([400, 'INVALID_CURSOR']);
  });
});
