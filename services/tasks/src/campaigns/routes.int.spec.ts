import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTransition, reserveSlot } from '../assignments/index.ts';
import { reconcileCampaign } from './reconcile.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';

let t: TestTasks;
let admin: string;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { schedule: false, expiry: false } });
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});

afterAll(async () => {
  await t?.stop();
});

const usd = (amount: number) => ({ amount, currency: 'USD' });
const future = (days = 30) => new Date(Date.now() + days * 86_400_000).toISOString();
const past = (days = 1) => new Date(Date.now() - days * 86_400_000).toISOString();

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, token: string | undefined, body?: unknown, key?: string) =>
  t.inject({
    method,
    url,
    ...(token ? { token } : {}),
    ...(body === undefined ? {} : { body }),
    ...(key ? { key } : {}),
  });

/** A fresh company with a manager and a viewer (identity's member events, as the read model holds them). */
async function company() {
  const id = randomUUID();
  const managerId = randomUUID();
  const viewerId = randomUUID();
  await t.fixtures.member(id, managerId, 'manager');
  await t.fixtures.member(id, viewerId, 'viewer');
  return {
    id,
    managerId,
    manager: await t.token({ sub: managerId, role: 'company' }),
    viewer: await t.token({ sub: viewerId, role: 'company' }),
  };
}

const draftBody = (companyId: string, values: Record<string, unknown> = {}) => ({
  company_id: companyId,
  name: 'Swahili voice prompts',
  description: 'Read short sentences aloud.',
  budget: usd(50_000),
  target_count: 100,
  start_at: null,
  end_at: future(),
  ...values,
});

async function draft(companyId: string, token: string, values: Record<string, unknown> = {}) {
  const response = await call('POST', '/api/v1/campaigns', token, draftBody(companyId, values));
  expect(response.status).toBe(201);
  return response.body.campaign as { id: string; company_id: string; [key: string]: unknown };
}

const row = (id: string) =>
  t.tasks.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const campaignCount = async (companyId: string) =>
  Number(
    (
      await t.tasks.db
        .selectFrom('campaigns')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('company_id', '=', companyId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('authentication and roles', () => {
  const id = randomUUID();
  const routes: [Method, string, unknown?][] = [
    ['POST', '/api/v1/campaigns', draftBody(randomUUID())],
    ['GET', '/api/v1/campaigns'],
    ['GET', `/api/v1/campaigns/${id}`],
    ['PATCH', `/api/v1/campaigns/${id}`, { name: 'x' }],
    ['POST', `/api/v1/campaigns/${id}/activate`],
    ['POST', `/api/v1/campaigns/${id}/top-up`, { amount: usd(100) }],
    ['POST', `/api/v1/campaigns/${id}/pause`],
    ['POST', `/api/v1/campaigns/${id}/resume`],
    ['POST', `/api/v1/campaigns/${id}/cancel`],
    ['POST', `/api/v1/campaigns/${id}/complete`],
    ['GET', `/api/v1/campaigns/${id}/stats`],
    ['POST', `/api/v1/campaigns/${id}/invitations`, { user_ids: [randomUUID()] }],
    ['GET', `/api/v1/campaigns/${id}/invitations`],
    ['DELETE', `/api/v1/campaigns/${id}/invitations/${randomUUID()}`],
  ];

  it.each(routes)('%s %s needs a token', async (method, url, body) => {
    expect(await call(method, url, undefined, body)).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHENTICATED' },
    });
  });

  it('refuses contributors on every route, even on a campaign that exists', async () => {
    const { id: companyId, manager } = await company();
    const campaign = await draft(companyId, manager);
    const contributor = await t.token({ role: 'contributor' });
    for (const [method, url, body] of routes) {
      const response = await call(method, url.replace(id, campaign.id), contributor, body);
      expect(response.status, `${method} ${url}`).toBe(403);
      expect(response.body.code).toBe('FORBIDDEN');
    }
    expect((await row(campaign.id)).status).toBe('draft');
  });
});

describe('POST /api/v1/campaigns', () => {
  it('drafts a campaign and announces it', async () => {
    const { id: companyId, manager, managerId } = await company();
    const startAt = new Date(Date.now() + 86_400_000).toISOString();
    const endAt = future(60);
    const response = await call(
      'POST',
      '/api/v1/campaigns',
      manager,
      draftBody(companyId, { start_at: startAt, end_at: endAt, is_private: true }),
    );
    expect(response.status).toBe(201);
    const campaign = response.body.campaign as { id: string };
    expect(campaign).toEqual({
      id: expect.any(String),
      company_id: companyId,
      name: 'Swahili voice prompts',
      description: 'Read short sentences aloud.',
      budget: usd(50_000),
      target_count: 100,
      start_at: startAt,
      end_at: endAt,
      is_private: true,
      judge_fee: usd(0),
      status: 'draft',
      pause_reason: null,
      last_funding_error: null,
      funded: usd(0),
      spent: usd(0),
      remaining: usd(0),
      available: usd(0),
      approved_count: 0,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect((await row(campaign.id)).created_by).toBe(managerId);
    const [created] = await t.awaitPublished(
      'tasks.campaign.created.v1',
      (event) => event.data.campaign_id === campaign.id,
    );
    expect(created!.data).toEqual({
      campaign_id: campaign.id,
      company_id: companyId,
      budget: usd(50_000),
      target_count: 100,
      start_at: startAt,
      end_at: endAt,
      is_private: true,
    });
    expect(created!.subject).toBe(campaign.id);
  });

  it('defaults the optional fields', async () => {
    const { id: companyId, manager } = await company();
    const response = await call('POST', '/api/v1/campaigns', manager, {
      company_id: companyId,
      name: '  Minimal  ',
      budget: { amount: 1, currency: 'KES' },
    });
    expect(response.status).toBe(201);
    expect(response.body.campaign).toMatchObject({
      name: 'Minimal',
      description: '',
      budget: { amount: 1, currency: 'KES' },
      target_count: null,
      start_at: null,
      end_at: null,
      is_private: false,
    });
  });

  it('replays the first answer for the same Idempotency-Key and body, and refuses another body', async () => {
    const { id: companyId, manager } = await company();
    const key = randomUUID();
    const body = draftBody(companyId);
    const first = await call('POST', '/api/v1/campaigns', manager, body, key);
    const again = await call('POST', '/api/v1/campaigns', manager, body, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const other = await call('POST', '/api/v1/campaigns', manager, { ...body, name: 'Other' }, key);
    expect(other).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect(await campaignCount(companyId)).toBe(1);
    expect(
      await t.written('tasks.campaign.created.v1', 'campaign_id', first.body.campaign.id as string),
    ).toHaveLength(1);
  });

  it.each<[string, (companyId: string) => unknown]>([
    ['no name', (c) => ({ ...draftBody(c), name: undefined })],
    ['an empty name', (c) => draftBody(c, { name: '   ' })],
    ['a name too long', (c) => draftBody(c, { name: 'x'.repeat(201) })],
    ['a name with control characters', (c) => draftBody(c, { name: 'a\u0000b' })],
    ['a description too long', (c) => draftBody(c, { description: 'x'.repeat(5001) })],
    ['no budget', (c) => ({ ...draftBody(c), budget: undefined })],
    ['a negative amount', (c) => draftBody(c, { budget: usd(-100) })],
    ['a zero amount', (c) => draftBody(c, { budget: usd(0) })],
    ['a float amount', (c) => draftBody(c, { budget: usd(10.5) })],
    ['an amount as a string', (c) => draftBody(c, { budget: { amount: '100', currency: 'USD' } })],
    ['an amount beyond safe integers', (c) => draftBody(c, { budget: usd(2 ** 60) })],
    ['a lower-case currency', (c) => draftBody(c, { budget: { amount: 100, currency: 'usd' } })],
    ['a currency that is no code', (c) => draftBody(c, { budget: { amount: 100, currency: 'DOLLARS' } })],
    ['no currency', (c) => draftBody(c, { budget: { amount: 100 } })],
    ['an end before the start', (c) => draftBody(c, { start_at: future(10), end_at: future(5) })],
    ['an end in the past', (c) => draftBody(c, { end_at: past() })],
    ['a date that is no timestamp', (c) => draftBody(c, { start_at: 'tomorrow' })],
    ['a target of zero', (c) => draftBody(c, { target_count: 0 })],
    ['a fractional target', (c) => draftBody(c, { target_count: 1.5 })],
    ['is_private as a string', (c) => draftBody(c, { is_private: 'yes' })],
    ['an unknown field', (c) => draftBody(c, { status: 'active' })],
    ['a company id that is no UUID', () => draftBody('acme')],
  ])('refuses %s (400) and writes nothing', async (label, body) => {
    const { id: companyId, manager } = await company();
    const response = await call('POST', '/api/v1/campaigns', manager, body(companyId));
    expect(response.status).toBe(400);
    // A NUL is refused by the kit, before the route's validation.
    expect(response.body.code).toBe(
      label === 'a name with control characters' ? 'INVALID_CHARACTERS' : 'VALIDATION_FAILED',
    );
    expect(await campaignCount(companyId)).toBe(0);
  });

  it('lets managers, API keys with campaigns:write and admins create; not viewers, read keys or outsiders', async () => {
    const a = await company();
    const b = await company();
    expect((await call('POST', '/api/v1/campaigns', admin, draftBody(a.id))).status).toBe(201);
    const writeKey = t.companyKeyToken(a.id, ['campaigns:write']);
    expect((await call('POST', '/api/v1/campaigns', writeKey, draftBody(a.id))).status).toBe(201);

    const viewer = await call('POST', '/api/v1/campaigns', a.viewer, draftBody(a.id));
    expect(viewer).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const readKey = t.companyKeyToken(a.id, ['campaigns:read']);
    expect((await call('POST', '/api/v1/campaigns', readKey, draftBody(a.id))).status).toBe(403);
    const outsider = await call('POST', '/api/v1/campaigns', b.manager, draftBody(a.id));
    expect(outsider).toMatchObject({ status: 404, body: { code: 'COMPANY_NOT_FOUND' } });
    const otherKey = t.companyKeyToken(b.id, ['campaigns:write']);
    expect((await call('POST', '/api/v1/campaigns', otherKey, draftBody(a.id))).status).toBe(404);
    expect(await campaignCount(a.id)).toBe(2);
  });
});

describe('GET /api/v1/campaigns/:id', () => {
  it('shows a campaign to its company (any member, read keys) and admins, and to nobody else', async () => {
    const a = await company();
    const b = await company();
    const campaign = await draft(a.id, a.manager);
    const url = `/api/v1/campaigns/${campaign.id}`;
    for (const token of [a.manager, a.viewer, admin, t.companyKeyToken(a.id, ['campaigns:read'])]) {
      const response = await call('GET', url, token);
      expect(response.status).toBe(200);
      expect(response.body.campaign).toEqual(campaign);
    }
    for (const token of [b.manager, t.companyKeyToken(b.id, ['campaigns:read'])]) {
      expect(await call('GET', url, token)).toMatchObject({
        status: 404,
        body: { code: 'CAMPAIGN_NOT_FOUND' },
      });
    }
    // A key of the right company without a campaigns scope cannot read either.
    expect((await call('GET', url, t.companyKeyToken(a.id, ['tasks:read']))).status).toBe(404);
  });

  it('answers 404 for an unknown campaign and 400 for an id that is no UUID', async () => {
    expect(await call('GET', `/api/v1/campaigns/${randomUUID()}`, admin)).toMatchObject({
      status: 404,
      body: { code: 'CAMPAIGN_NOT_FOUND' },
    });
    expect(await call('GET', '/api/v1/campaigns/42', admin)).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED' },
    });
  });

  it('shows what the campaign has and what it can still promise', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      funded_amount: 10_000,
      spent_amount: 1_000,
      returned_amount: 0,
      reserved_amount: 700,
      owed_amount: 300,
    });
    const { body } = await call('GET', `/api/v1/campaigns/${id}`, a.viewer);
    expect(body.campaign).toMatchObject({
      status: 'active',
      funded: usd(10_000),
      spent: usd(1_000),
      remaining: usd(9_000),
      available: usd(8_000),
    });
  });
});

describe('GET /api/v1/campaigns', () => {
  it("lists a member's companies' campaigns newest first, a page at a time", async () => {
    const a = await company();
    const b = await company();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await draft(a.id, a.manager, { name: `Campaign ${i}` })).id);
    await draft(b.id, b.manager);
    const newestFirst = [...ids].reverse();

    const first = await call('GET', '/api/v1/campaigns?limit=2', a.viewer);
    expect(first.status).toBe(200);
    expect(first.body.campaigns.map((c: { id: string }) => c.id)).toEqual(newestFirst.slice(0, 2));
    const second = await call('GET', `/api/v1/campaigns?limit=2&cursor=${first.body.next_cursor}`, a.viewer);
    expect(second.body.campaigns.map((c: { id: string }) => c.id)).toEqual(newestFirst.slice(2, 4));
    const third = await call('GET', `/api/v1/campaigns?limit=2&cursor=${second.body.next_cursor}`, a.viewer);
    expect(third.body.campaigns.map((c: { id: string }) => c.id)).toEqual(newestFirst.slice(4));
    expect(third.body.next_cursor).toBeNull();

    // Another company's campaigns stay out of it, even asked for by id.
    const asked = await call('GET', `/api/v1/campaigns?company_id=${b.id}`, a.manager);
    expect(asked.body).toEqual({ campaigns: [], next_cursor: null });
  });

  it('filters by status; admins see every company, or one', async () => {
    const a = await company();
    const active = await t.fixtures.activeCampaign({ company_id: a.id });
    const drafted = await draft(a.id, a.manager);
    const onlyActive = await call('GET', '/api/v1/campaigns?status=active', a.manager);
    expect(onlyActive.body.campaigns.map((c: { id: string }) => c.id)).toEqual([active.id]);

    const all = await call('GET', `/api/v1/campaigns?company_id=${a.id}`, admin);
    expect(all.body.campaigns.map((c: { id: string }) => c.id).sort()).toEqual(
      [active.id, drafted.id].sort(),
    );
    const everything = await call('GET', '/api/v1/campaigns?limit=100', admin);
    expect(everything.body.campaigns.length).toBeGreaterThanOrEqual(2);
  });

  it("shows an API key its own company's campaigns, given a campaigns scope", async () => {
    const a = await company();
    const drafted = await draft(a.id, a.manager);
    const key = t.companyKeyToken(a.id, ['campaigns:read']);
    const listed = await call('GET', '/api/v1/campaigns', key);
    expect(listed.body.campaigns.map((c: { id: string }) => c.id)).toEqual([drafted.id]);
    const unscoped = t.companyKeyToken(a.id, ['tasks:read']);
    expect((await call('GET', '/api/v1/campaigns', unscoped)).status).toBe(403);
  });

  it('lists nothing for a company account that belongs to no company', async () => {
    const loner = await t.token({ role: 'company' });
    expect((await call('GET', '/api/v1/campaigns', loner)).body).toEqual({
      campaigns: [],
      next_cursor: null,
    });
  });

  it.each([
    'cursor=not-a-cursor',
    'limit=0',
    'limit=101',
    'limit=2.5',
    'status=running',
    'company_id=acme',
    'sort=name',
  ])('refuses the query %s (400)', async (query) => {
    expect(await call('GET', `/api/v1/campaigns?${query}`, admin)).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED' },
    });
  });
});

describe('PATCH /api/v1/campaigns/:id', () => {
  it('changes what it is given and leaves the rest', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager);
    const endAt = future(90);
    const response = await call('PATCH', `/api/v1/campaigns/${campaign.id}`, a.manager, {
      name: 'Renamed',
      target_count: null,
      end_at: endAt,
      is_private: true,
      budget: usd(75_000),
    });
    expect(response.status).toBe(200);
    expect(response.body.campaign).toMatchObject({
      name: 'Renamed',
      description: campaign.description,
      target_count: null,
      end_at: endAt,
      is_private: true,
      budget: usd(75_000),
    });
    expect(Number((await row(campaign.id)).budget_amount)).toBe(75_000);
  });

  it('keeps the budget fixed once the ledger was asked, and everything once closed', async () => {
    const a = await company();
    const active = await t.fixtures.activeCampaign({ company_id: a.id });
    const url = `/api/v1/campaigns/${active.id}`;
    expect(await call('PATCH', url, a.manager, { budget: usd(5) })).toMatchObject({
      status: 409,
      body: { code: 'CAMPAIGN_BUDGET_LOCKED' },
    });
    expect((await call('PATCH', url, a.manager, { description: 'Still editable' })).status).toBe(200);

    const closed = await t.fixtures.activeCampaign({ company_id: a.id, status: 'completed' });
    expect(
      await call('PATCH', `/api/v1/campaigns/${closed.id}`, a.manager, { name: 'Too late' }),
    ).toMatchObject({ status: 409, body: { code: 'CAMPAIGN_CLOSED' } });
    expect((await row(closed.id)).name).toBe('Fixture campaign');
  });

  it('keeps the currency the ledger learned at creation: another one is refused (422 CURRENCY_LOCKED), the same one changes the amount', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager);
    const url = `/api/v1/campaigns/${campaign.id}`;
    const refused = await call('PATCH', url, a.manager, { budget: { amount: 75_000, currency: 'EUR' } });
    expect(refused).toMatchObject({ status: 422, body: { code: 'CURRENCY_LOCKED' } });
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await row(campaign.id)).toMatchObject({ currency: 'USD' });
    expect(Number((await row(campaign.id)).budget_amount)).toBe(50_000);

    const same = await call('PATCH', url, a.manager, { budget: usd(75_000) });
    expect(same).toMatchObject({ status: 200, body: { campaign: { budget: usd(75_000) } } });
    expect(Number((await row(campaign.id)).budget_amount)).toBe(75_000);
  });

  it('checks the schedule against what is stored', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager, { start_at: future(10), end_at: future(20) });
    const url = `/api/v1/campaigns/${campaign.id}`;
    const before = await call('PATCH', url, a.manager, { end_at: future(5) });
    expect(before).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(before.body.errors).toEqual([{ path: 'body.end_at', message: 'must be after start_at' }]);
    expect((await call('PATCH', url, a.manager, { start_at: future(25) })).status).toBe(400);
    expect((await call('PATCH', url, a.manager, { end_at: past() })).status).toBe(400);
    expect((await row(campaign.id)).end_at?.toISOString()).toBe(campaign.end_at);
    expect((await call('PATCH', url, a.manager, { start_at: null, end_at: null })).status).toBe(200);
  });

  it.each<[string, unknown]>([
    ['an empty body', {}],
    ['an unknown field', { status: 'active' }],
    ['an empty name', { name: '' }],
    ['a negative budget', { budget: usd(-1) }],
    ['a float target', { target_count: 2.5 }],
  ])('refuses %s (400)', async (_label, body) => {
    const a = await company();
    const campaign = await draft(a.id, a.manager);
    const response = await call('PATCH', `/api/v1/campaigns/${campaign.id}`, a.manager, body);
    expect(response).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect((await row(campaign.id)).updated_at.toISOString()).toBe(campaign.updated_at);
  });

  it('lets only writers change it: viewers and read keys 403, other companies 404', async () => {
    const a = await company();
    const b = await company();
    const campaign = await draft(a.id, a.manager);
    const url = `/api/v1/campaigns/${campaign.id}`;
    expect(await call('PATCH', url, a.viewer, { name: 'No' })).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN' },
    });
    expect(
      (await call('PATCH', url, t.companyKeyToken(a.id, ['campaigns:read']), { name: 'No' })).status,
    ).toBe(403);
    expect(await call('PATCH', url, b.manager, { name: 'No' })).toMatchObject({
      status: 404,
      body: { code: 'CAMPAIGN_NOT_FOUND' },
    });
    expect(
      (await call('PATCH', url, t.companyKeyToken(a.id, ['campaigns:write']), { name: 'Key' })).status,
    ).toBe(200);
    expect((await call('PATCH', url, admin, { name: 'Admin' })).status).toBe(200);
    expect((await row(campaign.id)).name).toBe('Admin');
  });

  it('resumes a campaign paused at its target when the target is raised', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      status: 'paused',
      pause_reason: 'target_reached',
      target_count: 2,
      approved_count: 2,
    });
    await t.fixtures.task(id);
    const response = await call('PATCH', `/api/v1/campaigns/${id}`, a.manager, { target_count: 5 });
    expect(response.body.campaign).toMatchObject({ status: 'active', pause_reason: null, target_count: 5 });
    expect(await t.written('tasks.campaign.resumed.v1', 'campaign_id', id)).toHaveLength(1);

    // Lowered to what is approved, it pauses again.
    const lowered = await call('PATCH', `/api/v1/campaigns/${id}`, a.manager, { target_count: 2 });
    expect(lowered.body.campaign).toMatchObject({ status: 'paused', pause_reason: 'target_reached' });
  });
});

describe('POST /api/v1/campaigns/:id/activate', () => {
  it('asks the ledger to fund the budget and waits for its answer', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager, { budget: usd(42_000) });
    const response = await call('POST', `/api/v1/campaigns/${campaign.id}/activate`, a.manager);
    expect(response.status).toBe(202);
    expect(response.body.campaign).toMatchObject({ id: campaign.id, status: 'funding', funded: usd(0) });

    const [requested] = await t.awaitPublished(
      'tasks.campaign.funding-requested.v1',
      (event) => event.data.campaign_id === campaign.id,
    );
    expect(requested!.data).toEqual({
      campaign_id: campaign.id,
      company_id: a.id,
      budget: usd(42_000),
      purpose: 'activation',
    });
    const requests = await t.tasks.db
      .selectFrom('campaign_funding_requests')
      .selectAll()
      .where('campaign_id', '=', campaign.id)
      .execute();
    expect(requests).toEqual([
      expect.objectContaining({
        event_id: requested!.id,
        purpose: 'activation',
        amount: 42_000,
        currency: 'USD',
        status: 'pending',
        answered_at: null,
      }),
    ]);

    expect(await call('POST', `/api/v1/campaigns/${campaign.id}/activate`, a.manager)).toMatchObject({
      status: 409,
      body: { code: 'CAMPAIGN_NOT_DRAFT' },
    });
    // While the ledger has not answered, the campaign cannot be closed.
    for (const action of ['cancel', 'complete']) {
      expect(await call('POST', `/api/v1/campaigns/${campaign.id}/${action}`, a.manager)).toMatchObject({
        status: 409,
        body: { code: 'CAMPAIGN_FUNDING_IN_PROGRESS' },
      });
    }
  });

  it('refuses a draft whose end date has passed (422)', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      status: 'draft',
      funded_amount: 0,
      end_at: past(),
    });
    expect(await call('POST', `/api/v1/campaigns/${id}/activate`, a.manager)).toMatchObject({
      status: 422,
      body: { code: 'CAMPAIGN_ENDED' },
    });
    expect((await row(id)).status).toBe('draft');
    expect(await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id)).toHaveLength(0);
  });

  it('is for writers only', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager);
    const url = `/api/v1/campaigns/${campaign.id}/activate`;
    expect((await call('POST', url, a.viewer)).status).toBe(403);
    expect((await call('POST', url, t.companyKeyToken(a.id, ['campaigns:read']))).status).toBe(403);
    expect((await call('POST', url, (await company()).manager)).status).toBe(404);
    expect((await row(campaign.id)).status).toBe('draft');
    expect((await call('POST', url, t.companyKeyToken(a.id, ['campaigns:write']))).status).toBe(202);
  });
});

describe('POST /api/v1/campaigns/:id/top-up', () => {
  it('asks the ledger for more money for a running campaign', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    const response = await call('POST', `/api/v1/campaigns/${id}/top-up`, a.manager, { amount: usd(5_000) });
    expect(response.status).toBe(202);
    expect(response.body.campaign).toMatchObject({ id, status: 'active' });
    const [requested] = await t.awaitPublished(
      'tasks.campaign.funding-requested.v1',
      (event) => event.data.campaign_id === id,
    );
    expect(requested!.data).toEqual({
      campaign_id: id,
      company_id: a.id,
      budget: usd(5_000),
      purpose: 'top_up',
    });
    const request = await t.tasks.db
      .selectFrom('campaign_funding_requests')
      .selectAll()
      .where('event_id', '=', requested!.id)
      .executeTakeFirstOrThrow();
    expect(request).toMatchObject({ campaign_id: id, purpose: 'top_up', amount: 5_000, status: 'pending' });
    // Until the ledger answers, the campaign cannot close.
    expect(await call('POST', `/api/v1/campaigns/${id}/cancel`, a.manager)).toMatchObject({
      status: 409,
      body: { code: 'CAMPAIGN_FUNDING_IN_PROGRESS' },
    });
  });

  it('replays the first answer for the same Idempotency-Key, asking the ledger once', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    const key = randomUUID();
    const url = `/api/v1/campaigns/${id}/top-up`;
    const first = await call('POST', url, a.manager, { amount: usd(700) }, key);
    const again = await call('POST', url, a.manager, { amount: usd(700) }, key);
    expect(first.status).toBe(202);
    expect(again).toMatchObject({ status: 202, body: first.body });
    expect(await call('POST', url, a.manager, { amount: usd(800) }, key)).toMatchObject({
      status: 422,
      body: { code: 'IDEMPOTENCY_KEY_REUSED' },
    });
    expect(await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id)).toHaveLength(1);
  });

  it('refuses another currency (422), a campaign not running (409) and bad amounts (400)', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    const url = `/api/v1/campaigns/${id}/top-up`;
    expect(await call('POST', url, a.manager, { amount: { amount: 100, currency: 'EUR' } })).toMatchObject({
      status: 422,
      body: { code: 'CURRENCY_MISMATCH' },
    });
    for (const amount of [usd(-5), usd(0), usd(1.5), { amount: 5 }, { amount: 5, currency: 'usd' }]) {
      expect((await call('POST', url, a.manager, { amount })).status).toBe(400);
    }
    expect((await call('POST', url, a.manager, {})).status).toBe(400);
    const drafted = await draft(a.id, a.manager);
    expect(
      await call('POST', `/api/v1/campaigns/${drafted.id}/top-up`, a.manager, { amount: usd(5) }),
    ).toMatchObject({ status: 409, body: { code: 'CAMPAIGN_NOT_RUNNING' } });
    expect((await call('POST', url, a.viewer, { amount: usd(5) })).status).toBe(403);
    expect(await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id)).toHaveLength(0);
  });
});

describe('pause and resume', () => {
  it('pauses by hand and resumes', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    await t.fixtures.task(id);
    const paused = await call('POST', `/api/v1/campaigns/${id}/pause`, a.manager);
    expect(paused).toMatchObject({
      status: 200,
      body: { campaign: { status: 'paused', pause_reason: 'manual' } },
    });
    expect((await t.written('tasks.campaign.paused.v1', 'campaign_id', id)).map((e) => e.data)).toEqual([
      { campaign_id: id, company_id: a.id, reason_code: 'manual' },
    ]);
    expect(await call('POST', `/api/v1/campaigns/${id}/pause`, a.manager)).toMatchObject({
      status: 409,
      body: { code: 'CAMPAIGN_NOT_ACTIVE' },
    });

    const resumed = await call('POST', `/api/v1/campaigns/${id}/resume`, a.manager);
    expect(resumed).toMatchObject({
      status: 200,
      body: { campaign: { status: 'active', pause_reason: null } },
    });
    expect(await t.written('tasks.campaign.resumed.v1', 'campaign_id', id)).toHaveLength(1);
    expect(await call('POST', `/api/v1/campaigns/${id}/resume`, a.manager)).toMatchObject({
      status: 409,
      body: { code: 'CAMPAIGN_NOT_PAUSED' },
    });
  });

  it('pauses again at once when resumed without the money for the next reward', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      status: 'paused',
      pause_reason: 'manual',
      funded_amount: 50,
    });
    await t.fixtures.task(id, { reward_amount: 100 });
    const resumed = await call('POST', `/api/v1/campaigns/${id}/resume`, a.manager);
    expect(resumed.body.campaign).toMatchObject({ status: 'paused', pause_reason: 'budget_exhausted' });
    expect(await t.written('tasks.campaign.resumed.v1', 'campaign_id', id)).toHaveLength(1);
    expect(
      (await t.written('tasks.campaign.paused.v1', 'campaign_id', id)).map(
        (e) => e.data.reason_code as string,
      ),
    ).toEqual(['budget_exhausted']);
  });

  it('pins a campaign the budget paused, so money alone does not resume it', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      status: 'paused',
      pause_reason: 'budget_exhausted',
      funded_amount: 50,
    });
    const pinned = await call('POST', `/api/v1/campaigns/${id}/pause`, a.manager);
    expect(pinned.body.campaign).toMatchObject({ status: 'paused', pause_reason: 'manual' });
  });

  it('is for writers only', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    expect((await call('POST', `/api/v1/campaigns/${id}/pause`, a.viewer)).status).toBe(403);
    expect((await call('POST', `/api/v1/campaigns/${id}/pause`, (await company()).manager)).status).toBe(404);
    expect((await row(id)).status).toBe('active');
  });
});

describe('cancel and complete', () => {
  it('cancels a draft: its tasks are archived, and with nothing funded nothing is announced', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager);
    const task = await t.fixtures.task(campaign.id);
    const response = await call('POST', `/api/v1/campaigns/${campaign.id}/cancel`, a.manager);
    expect(response).toMatchObject({ status: 200, body: { campaign: { status: 'cancelled' } } });
    const taskRow = await t.tasks.db
      .selectFrom('tasks')
      .select('status')
      .where('id', '=', task.id)
      .executeTakeFirst();
    expect(taskRow?.status).toBe('archived');
    expect((await t.written('tasks.task.closed.v1', 'campaign_id', campaign.id)).map((e) => e.data)).toEqual([
      { task_id: task.id, campaign_id: campaign.id, company_id: a.id, reason_code: 'campaign_cancelled' },
    ]);
    expect(await t.written('tasks.campaign.cancelled.v1', 'campaign_id', campaign.id)).toHaveLength(0);
    expect((await row(campaign.id)).close_event).toBeNull();
    expect(await call('POST', `/api/v1/campaigns/${campaign.id}/cancel`, a.manager)).toMatchObject({
      status: 409,
      body: { code: 'CAMPAIGN_CLOSED' },
    });
  });

  it('completes a funded campaign: open tasks close and the ledger is told to return the rest', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      funded_amount: 10_000,
      spent_amount: 2_000,
    });
    const open = await t.fixtures.task(id);
    const paused = await t.fixtures.task(id, { status: 'paused' });
    const archived = await t.fixtures.task(id, { status: 'archived' });
    const response = await call('POST', `/api/v1/campaigns/${id}/complete`, a.manager);
    expect(response.body.campaign).toMatchObject({ status: 'completed', remaining: usd(8_000) });
    const statuses = await t.tasks.db
      .selectFrom('tasks')
      .select(['id', 'status'])
      .where('campaign_id', '=', id)
      .execute();
    expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
      [open.id]: 'completed',
      [paused.id]: 'completed',
      [archived.id]: 'archived',
    });
    const closed = await t.written('tasks.task.closed.v1', 'campaign_id', id);
    expect(closed.map((e) => e.data.task_id).sort()).toEqual([open.id, paused.id].sort());
    expect(closed.every((e) => e.data.reason_code === 'campaign_completed')).toBe(true);
    const [completed] = await t.awaitPublished(
      'tasks.campaign.completed.v1',
      (e) => e.data.campaign_id === id,
    );
    expect(completed!.data).toEqual({ campaign_id: id, company_id: a.id });
    expect((await row(id)).close_event_sent_at).not.toBeNull();
    expect(await t.written('tasks.campaign.completed.v1', 'campaign_id', id)).toHaveLength(1);
  });

  it('waits for promised work to settle before the cancelled event, then sends it once', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id, funded_amount: 1_000 });
    const task = await t.fixtures.task(id, { reward_amount: 300 });
    const { db } = t.tasks;
    // A contributor holds a claim: 300 of the budget is promised.
    expect(
      await db
        .transaction()
        .execute((trx) => reserveSlot(trx, { campaignId: id, taskId: task.id, hold: 300, now: new Date() })),
    ).toBe('reserved');

    const response = await call('POST', `/api/v1/campaigns/${id}/cancel`, a.manager);
    expect(response.body.campaign).toMatchObject({ status: 'cancelled' });
    const closing = await row(id);
    expect(closing).toMatchObject({
      close_event: 'cancelled',
      close_event_sent_at: null,
      reserved_amount: 300,
    });
    expect(await t.written('tasks.campaign.cancelled.v1', 'campaign_id', id)).toHaveLength(0);

    // The claim is released: nothing is promised any more.
    await db.transaction().execute(async (trx) => {
      await applyTransition(
        trx,
        {
          id: randomUUID(),
          task_id: task.id,
          campaign_id: id,
          reward_amount: 300,
          judge_fee_amount: 0,
          max_judges: 5,
          fee_hold_amount: 0,
        },
        { kind: 'freed' },
        new Date(),
      );
      await reconcileCampaign(trx, id, new Date());
    });
    expect(await t.written('tasks.campaign.cancelled.v1', 'campaign_id', id)).toHaveLength(1);
    await db.transaction().execute((trx) => reconcileCampaign(trx, id, new Date()));
    expect(await t.written('tasks.campaign.cancelled.v1', 'campaign_id', id)).toHaveLength(1);
    await t.awaitPublished('tasks.campaign.cancelled.v1', (e) => e.data.campaign_id === id);
  });

  it('is for writers only', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    for (const action of ['cancel', 'complete']) {
      expect((await call('POST', `/api/v1/campaigns/${id}/${action}`, a.viewer)).status).toBe(403);
      expect(
        (await call('POST', `/api/v1/campaigns/${id}/${action}`, t.companyKeyToken(a.id, ['campaigns:read'])))
          .status,
      ).toBe(403);
      expect(
        (await call('POST', `/api/v1/campaigns/${id}/${action}`, (await company()).manager)).status,
      ).toBe(404);
    }
    expect((await row(id)).status).toBe('active');
    expect((await call('POST', `/api/v1/campaigns/${id}/complete`, admin)).status).toBe(200);
  });
});

describe('GET /api/v1/campaigns/:id/stats', () => {
  it("sums up the campaign's progress and money", async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      target_count: 8,
      received_count: 7,
      approved_count: 2,
      rejected_count: 1,
      funded_amount: 10_000,
      spent_amount: 500,
      returned_amount: 0,
      reserved_amount: 400,
      owed_amount: 300,
    });
    await t.fixtures.task(id);
    await t.fixtures.task(id);
    const response = await call(
      'GET',
      `/api/v1/campaigns/${id}/stats`,
      t.companyKeyToken(a.id, ['campaigns:read']),
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      campaign_id: id,
      received: 7,
      approved: 2,
      rejected: 1,
      pending_review: 4,
      spent: usd(500),
      reserved: usd(400),
      owed: usd(300),
      remaining: usd(9_500),
      completion: 0.25,
      tasks: 2,
    });
  });

  it('has no completion without a target, and is hidden from other companies', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    expect((await call('GET', `/api/v1/campaigns/${id}/stats`, a.viewer)).body).toMatchObject({
      completion: null,
      tasks: 0,
    });
    expect((await call('GET', `/api/v1/campaigns/${id}/stats`, (await company()).viewer)).status).toBe(404);
  });
});

describe('invitations', () => {
  it('invites contributors once however often asked, lists them by page, and withdraws them', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager, { is_private: true });
    const url = `/api/v1/campaigns/${campaign.id}/invitations`;
    const users = [randomUUID(), randomUUID(), randomUUID()];
    expect(await call('POST', url, a.manager, { user_ids: [users[0], users[1], users[0]] })).toMatchObject({
      status: 200,
      body: { invited: 2 },
    });
    expect((await call('POST', url, a.manager, { user_ids: [users[1], users[2]] })).body).toEqual({
      invited: 2,
    });
    const stored = await t.tasks.db
      .selectFrom('campaign_invitations')
      .select('user_id')
      .where('campaign_id', '=', campaign.id)
      .execute();
    expect(stored.map((s) => s.user_id).sort()).toEqual([...users].sort());

    const first = await call('GET', `${url}?limit=2`, a.viewer);
    expect(first.status).toBe(200);
    expect(first.body.invitations).toHaveLength(2);
    const second = await call('GET', `${url}?limit=2&cursor=${first.body.next_cursor}`, a.viewer);
    expect(second.body.invitations).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const listed = [...first.body.invitations, ...second.body.invitations];
    expect(listed.map((i: { user_id: string }) => i.user_id).sort()).toEqual([...users].sort());
    // Newest first, ties broken by user id.
    const order = (i: { user_id: string; created_at: string }) => `${i.created_at}|${i.user_id}`;
    expect(listed.map(order)).toEqual(listed.map(order).sort().reverse());
    const at = (user: string): string =>
      listed.find((i: { user_id: string }) => i.user_id === user).created_at as string;
    expect(Date.parse(at(users[2]!))).toBeGreaterThanOrEqual(Date.parse(at(users[0]!)));
    expect(at(users[1]!)).toBe(at(users[0]!));
    expect(listed[0]).toEqual({ user_id: expect.any(String), created_at: expect.any(String) });

    expect((await call('DELETE', `${url}/${users[0]}`, a.manager)).status).toBe(204);
    expect(await call('DELETE', `${url}/${users[0]}`, a.manager)).toMatchObject({
      status: 404,
      body: { code: 'INVITATION_NOT_FOUND' },
    });
    const after = await call('GET', url, a.manager);
    expect(after.body.invitations.map((i: { user_id: string }) => i.user_id).sort()).toEqual(
      [users[1], users[2]].sort(),
    );
  });

  it('lets viewers read the list, not change it; other companies see nothing', async () => {
    const a = await company();
    const campaign = await draft(a.id, a.manager, { is_private: true });
    const url = `/api/v1/campaigns/${campaign.id}/invitations`;
    const user = randomUUID();
    expect((await call('POST', url, a.viewer, { user_ids: [user] })).status).toBe(403);
    expect(
      (await call('POST', url, t.companyKeyToken(a.id, ['campaigns:read']), { user_ids: [user] })).status,
    ).toBe(403);
    expect((await call('POST', url, admin, { user_ids: [user] })).status).toBe(200);
    expect((await call('DELETE', `${url}/${user}`, a.viewer)).status).toBe(403);
    expect((await call('GET', url, a.viewer)).body.invitations).toHaveLength(1);
    const outsider = (await company()).manager;
    expect((await call('GET', url, outsider)).status).toBe(404);
    expect((await call('POST', url, outsider, { user_ids: [randomUUID()] })).status).toBe(404);
    expect((await call('DELETE', `${url}/${user}`, outsider)).status).toBe(404);
  });

  it.each<[string, unknown]>([
    ['no ids', { user_ids: [] }],
    ['an id that is no UUID', { user_ids: ['bob'] }],
    ['too many ids', { user_ids: Array.from({ length: 1001 }, () => randomUUID()) }],
    ['an unknown field', { user_ids: [randomUUID()], note: 'hi' }],
  ])('refuses %s (400) and invites nobody', async (_label, body) => {
    const a = await company();
    const campaign = await draft(a.id, a.manager);
    const response = await call('POST', `/api/v1/campaigns/${campaign.id}/invitations`, a.manager, body);
    expect(response).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const stored = await t.tasks.db
      .selectFrom('campaign_invitations')
      .select('user_id')
      .where('campaign_id', '=', campaign.id)
      .execute();
    expect(stored).toEqual([]);
  });

  it('refuses changes once the campaign closed', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id, status: 'cancelled' });
    expect(
      await call('POST', `/api/v1/campaigns/${id}/invitations`, a.manager, { user_ids: [randomUUID()] }),
    ).toMatchObject({ status: 409, body: { code: 'CAMPAIGN_CLOSED' } });
  });
});

describe('OpenAPI', () => {
  it('documents every campaign route', async () => {
    const response = await call('GET', '/docs/json', undefined);
    expect(response.status).toBe(200);
    const paths = Object.keys(response.body.paths as Record<string, unknown>);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/campaigns',
        '/api/v1/campaigns/{id}',
        '/api/v1/campaigns/{id}/activate',
        '/api/v1/campaigns/{id}/top-up',
        '/api/v1/campaigns/{id}/pause',
        '/api/v1/campaigns/{id}/resume',
        '/api/v1/campaigns/{id}/cancel',
        '/api/v1/campaigns/{id}/complete',
        '/api/v1/campaigns/{id}/stats',
        '/api/v1/campaigns/{id}/invitations',
        '/api/v1/campaigns/{id}/invitations/{userId}',
      ]),
    );
  });
});
