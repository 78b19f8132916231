import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds } from '../domain/accounts.ts';
import { foreign, startTestLedger, type TestLedger, usd } from '../messaging/testing.ts';
import type { InjectRequest } from '@tessera/service-kit/testing';
import { transferIds } from '../messaging/transfer-ids.ts';

let t: TestLedger;
let admin: string;
let adminId: string;

beforeAll(async () => {
  t = await startTestLedger();
  adminId = randomUUID();
  admin = await t.token({ sub: adminId, role: 'admin' });
});

afterAll(async () => {
  await t?.stop();
});

type Call = InjectRequest;
const call = (request: Call) => t.inject(request);

const storedEvents = async () => (await t.ledger.resources.store.readAll()).length;

async function member(companyId: string, role: 'company' | 'contributor' = 'company') {
  const userId = randomUUID();
  await t.deliver(
    'ledger-identity',
    foreign('identity.company.member-added.v1', {
      company_id: companyId,
      user_id: userId,
      member_role: 'manager',
    }),
  );
  return t.token({ sub: userId, role });
}

const topup = (companyId: string, key: string, amount = 100_000, reference = 'wire 42') =>
  call({
    method: 'POST',
    url: `/api/v1/companies/${companyId}/topups`,
    token: admin,
    key,
    body: { amount: usd(amount), reference },
  });

describe('authentication', () => {
  it.each([
    '/api/v1/wallet',
    '/api/v1/wallet/transactions',
    `/api/v1/companies/${randomUUID()}/credits`,
    `/api/v1/campaigns/${randomUUID()}/budget`,
    '/api/v1/admin/ledger/summary',
  ])('refuses %s without a token', async (url) => {
    expect(await call({ url })).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
  });
});

describe('wallet', () => {
  it('is zero for a newcomer', async () => {
    const token = await t.token({ sub: randomUUID() });
    expect((await call({ url: '/api/v1/wallet', token })).body).toEqual({
      available: usd(0),
      held: usd(0),
      total_earned: usd(0),
      total_withdrawn: usd(0),
    });
  });

  it("shows the caller's own money, and a statement paged by cursor, newest first", async () => {
    const userId = randomUUID();
    const token = await t.token({ sub: userId });
    for (const amount of [100, 200, 300]) {
      await t.deliver(
        'ledger-engagement',
        foreign('engagement.bonus.awarded.v1', {
          bonus_id: randomUUID(),
          user_id: userId,
          amount: usd(amount),
          reason_code: 'streak',
        }),
      );
    }
    const withdrawal = { withdrawal_id: randomUUID(), user_id: userId, amount: usd(250) };
    await t.deliver('ledger-payouts', foreign('payouts.withdrawal.requested.v1', withdrawal));
    await t.projected();

    expect((await call({ url: '/api/v1/wallet', token })).body).toEqual({
      available: usd(350),
      held: usd(250),
      total_earned: usd(600),
      total_withdrawn: usd(0),
    });

    const first = await call({ url: '/api/v1/wallet/transactions?limit=3', token });
    expect(first.status).toBe(200);
    expect(
      first.body.items.map(
        (l: { seq: number; direction: string; phase: string; amount: unknown; available: unknown }) => [
          l.seq,
          l.direction,
          l.phase,
          l.amount,
          l.available,
        ],
      ),
    ).toEqual([
      [4, 'debit', 'pending', usd(250), usd(350)],
      [3, 'credit', 'posted', usd(300), usd(600)],
      [2, 'credit', 'posted', usd(200), usd(300)],
    ]);
    expect(first.body.items[0].transfer_id).toBe(transferIds.withdrawal(withdrawal.withdrawal_id));
    expect(first.body.next_cursor).toEqual(expect.any(String));

    const second = await call({
      url: `/api/v1/wallet/transactions?limit=3&cursor=${first.body.next_cursor}`,
      token,
    });
    expect(second.body.items.map((l: { seq: number }) => l.seq)).toEqual([1]);
    expect(second.body.next_cursor).toBeNull();
  });

  it('refuses a cursor it did not issue and a limit out of range', async () => {
    const token = await t.token();
    for (const query of ['cursor=not-a-cursor', 'limit=0', 'limit=1000', 'limit=2.5', 'currency=usd']) {
      expect(await call({ url: `/api/v1/wallet/transactions?${query}`, token })).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED' },
      });
    }
  });
});

describe('company credits and top-ups', () => {
  it('records an admin top-up, announces it once, and shows it to members', async () => {
    const companyId = randomUUID();
    const key = randomUUID();
    const created = await topup(companyId, key, 250_000, 'invoice 2025-001');
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      transfer_id: transferIds.topup(companyId, key),
      company_id: companyId,
      amount: usd(250_000),
      reference: 'invoice 2025-001',
      recorded_at: expect.any(String),
    });
    expect(created.headers['idempotent-replayed']).toBeUndefined();

    // Read-after-write: the projections include the top-up before the 201.
    const token = await member(companyId);
    expect((await call({ url: `/api/v1/companies/${companyId}/credits`, token })).body).toEqual({
      company_id: companyId,
      available: usd(250_000),
    });
    expect((await call({ url: `/api/v1/companies/${companyId}/credits`, token: admin })).status).toBe(200);

    let recorded: { data: { company_id: string } }[] = [];
    await expect
      .poll(async () => {
        recorded = (await t.published('ledger.topup.recorded.v1')).filter(
          (e) => e.data.company_id === companyId,
        );
        return recorded.length;
      })
      .toBe(1);
    expect(recorded[0]!.data).toEqual({
      company_id: companyId,
      amount: usd(250_000),
      transfer_id: transferIds.topup(companyId, key),
    });
  });

  it('answers a retry with the same key and body with the first result, and moves nothing more', async () => {
    const companyId = randomUUID();
    const key = randomUUID();
    const first = await topup(companyId, key);
    const again = await topup(companyId, key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const credits = await call({ url: `/api/v1/companies/${companyId}/credits`, token: admin });
    expect(credits.body.available).toEqual(usd(100_000));
    await t.projected();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(
      (await t.published('ledger.topup.recorded.v1')).filter((e) => e.data.company_id === companyId),
    ).toHaveLength(1);
  });

  it('refuses the same key with another body: 409 IDEMPOTENCY_CONFLICT', async () => {
    const companyId = randomUUID();
    const key = randomUUID();
    await topup(companyId, key, 100_000, 'wire 1');
    expect(await topup(companyId, key, 100_001, 'wire 1')).toMatchObject({
      status: 409,
      body: { code: 'IDEMPOTENCY_CONFLICT' },
    });
    expect(await topup(companyId, key, 100_000, 'wire 2')).toMatchObject({
      status: 409,
      body: { code: 'IDEMPOTENCY_CONFLICT' },
    });
  });

  it('lets only admins top up', async () => {
    const companyId = randomUUID();
    for (const token of [await member(companyId), await t.token({ role: 'contributor' })]) {
      const response = await call({
        method: 'POST',
        url: `/api/v1/companies/${companyId}/topups`,
        token,
        key: randomUUID(),
        body: { amount: usd(100), reference: 'x' },
      });
      expect(response).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    }
  });

  it('stores nothing for bad input', async () => {
    const companyId = randomUUID();
    const before = await storedEvents();
    const url = `/api/v1/companies/${companyId}/topups`;
    const cases: [Call, number, string][] = [
      [{ url, body: { amount: usd(100), reference: 'x' } }, 400, 'VALIDATION_FAILED'], // no key
      [{ url, key: 'has space', body: { amount: usd(100), reference: 'x' } }, 400, 'VALIDATION_FAILED'],
      [
        { url, key: 'k', body: { amount: { amount: 10.5, currency: 'USD' }, reference: 'x' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        { url, key: 'k', body: { amount: { amount: '100', currency: 'USD' }, reference: 'x' } },
        400,
        'VALIDATION_FAILED',
      ],
      [{ url, key: 'k', body: { amount: usd(0), reference: 'x' } }, 400, 'VALIDATION_FAILED'],
      [{ url, key: 'k', body: { amount: usd(-5), reference: 'x' } }, 400, 'VALIDATION_FAILED'],
      [{ url, key: 'k', body: { amount: usd(100), reference: '' } }, 400, 'VALIDATION_FAILED'],
      [{ url, key: 'k', body: { amount: usd(100), reference: 'x', extra: 1 } }, 400, 'VALIDATION_FAILED'],
      [{ url, key: 'k', body: { amount: usd(100), reference: 'wire\u0007' } }, 400, 'VALIDATION_FAILED'],
      // Postgres cannot store a lone surrogate (it answered 500): the kit refuses it at the edge.
      [{ url, key: 'k', body: { amount: usd(100), reference: 'wire \uD83D' } }, 400, 'INVALID_CHARACTERS'],
      [
        { url, key: 'k', body: { amount: { amount: 100, currency: 'usd' }, reference: 'x' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        { url, key: 'k', body: { amount: { amount: 100, currency: 'EUR' }, reference: 'x' } },
        422,
        'UNSUPPORTED_CURRENCY',
      ],
      [
        { url: '/api/v1/companies/not-a-uuid/topups', key: 'k', body: { amount: usd(1), reference: 'x' } },
        400,
        'VALIDATION_FAILED',
      ],
    ];
    for (const [request, status, code] of cases) {
      expect(await call({ method: 'POST', token: admin, ...request })).toMatchObject({
        status,
        body: { code },
      });
    }
    expect(await storedEvents()).toBe(before);
  });

  it("does not show a company's credits to a non-member, nor say that the company exists", async () => {
    const companyId = randomUUID();
    await member(companyId);
    const outsider = await member(randomUUID());
    const contributor = await t.token({ role: 'contributor' });
    for (const token of [outsider, contributor]) {
      expect(await call({ url: `/api/v1/companies/${companyId}/credits`, token })).toMatchObject({
        status: 404,
        body: { code: 'COMPANY_NOT_FOUND', detail: 'No such company.' },
      });
    }
    // A company the ledger never heard of reads the same.
    expect(await call({ url: `/api/v1/companies/${randomUUID()}/credits`, token: outsider })).toMatchObject({
      status: 404,
      body: { code: 'COMPANY_NOT_FOUND', detail: 'No such company.' },
    });
  });

  it("lets a company's own API key read its credits with billing:read, and no other key", async () => {
    const companyId = randomUUID();
    await topup(companyId, randomUUID(), 7_000);
    const url = `/api/v1/companies/${companyId}/credits`;
    expect(await call({ url, token: t.companyKeyToken(companyId, ['billing:read']) })).toMatchObject({
      status: 200,
      body: { available: usd(7_000) },
    });
    for (const token of [
      t.companyKeyToken(companyId, ['company:read', 'campaigns:read']),
      t.companyKeyToken(randomUUID(), ['billing:read']),
    ]) {
      expect(await call({ url, token })).toMatchObject({ status: 404, body: { code: 'COMPANY_NOT_FOUND' } });
    }
    expect(
      await call({
        method: 'POST',
        url: `/api/v1/companies/${companyId}/topups`,
        token: t.companyKeyToken(companyId, ['billing:read']),
        key: randomUUID(),
        body: { amount: usd(1), reference: 'self-service' },
      }),
    ).toMatchObject({ status: 403 });
  });

  it('stops showing credits to a member who was removed', async () => {
    const companyId = randomUUID();
    const userId = randomUUID();
    const token = await t.token({ sub: userId, role: 'company' });
    const added = foreign('identity.company.member-added.v1', {
      company_id: companyId,
      user_id: userId,
      member_role: 'billing',
    });
    await t.deliver('ledger-identity', added);
    expect((await call({ url: `/api/v1/companies/${companyId}/credits`, token })).status).toBe(200);
    await t.deliver(
      'ledger-identity',
      foreign('identity.company.member-removed.v1', { company_id: companyId, user_id: userId }),
    );
    expect(await call({ url: `/api/v1/companies/${companyId}/credits`, token })).toMatchObject({
      status: 404,
      body: { code: 'COMPANY_NOT_FOUND' },
    });
  });
});

describe('campaign budget', () => {
  it("shows a funded campaign's budget to the company's members and admins only", async () => {
    const companyId = randomUUID();
    const campaignId = randomUUID();
    await topup(companyId, randomUUID(), 100_000);
    await t.createCampaign(campaignId, companyId);
    await t.deliver(
      'ledger-tasks',
      foreign('tasks.campaign.funding-requested.v1', {
        campaign_id: campaignId,
        company_id: companyId,
        budget: usd(40_000),
      }),
    );
    await t.deliver('ledger-submissions', await t.approval({ campaignId, reward: 1_500 }));
    await t.projected();
    const expected = {
      campaign_id: campaignId,
      company_id: companyId,
      funded: usd(40_000),
      spent: usd(1_500),
      returned: usd(0),
      remaining: usd(38_500),
    };
    const token = await member(companyId);
    expect(await call({ url: `/api/v1/campaigns/${campaignId}/budget`, token })).toMatchObject({
      status: 200,
      body: expected,
    });
    expect((await call({ url: `/api/v1/campaigns/${campaignId}/budget`, token: admin })).body).toEqual(
      expected,
    );
    expect(
      await call({ url: `/api/v1/campaigns/${campaignId}/budget`, token: await member(randomUUID()) }),
    ).toMatchObject({ status: 404, body: { code: 'CAMPAIGN_NOT_FOUND' } });
    const key = (scopes: string[], company = companyId) => t.companyKeyToken(company, scopes);
    expect(
      (await call({ url: `/api/v1/campaigns/${campaignId}/budget`, token: key(['campaigns:read']) })).body,
    ).toEqual(expected);
    expect(
      await call({ url: `/api/v1/campaigns/${campaignId}/budget`, token: key(['tasks:read']) }),
    ).toMatchObject({
      status: 404,
      body: { code: 'CAMPAIGN_NOT_FOUND' },
    });
    expect(
      await call({
        url: `/api/v1/campaigns/${campaignId}/budget`,
        token: key(['campaigns:read'], randomUUID()),
      }),
    ).toMatchObject({ status: 404, body: { code: 'CAMPAIGN_NOT_FOUND' } });
    expect(
      await call({
        url: `/api/v1/campaigns/${campaignId}/budget`,
        token: await t.token({ role: 'contributor' }),
      }),
    ).toMatchObject({ status: 404, body: { code: 'CAMPAIGN_NOT_FOUND' } });
  });

  it('is 404 for a campaign the ledger never heard of, 400 for a malformed id', async () => {
    expect(await call({ url: `/api/v1/campaigns/${randomUUID()}/budget`, token: admin })).toMatchObject({
      status: 404,
      body: { code: 'CAMPAIGN_NOT_FOUND' },
    });
    expect(await call({ url: '/api/v1/campaigns/42/budget', token: admin })).toMatchObject({ status: 400 });
  });
});

describe('admin adjustments', () => {
  const adjust = (body: Record<string, unknown>, key = randomUUID(), token = admin) =>
    call({ method: 'POST', url: '/api/v1/admin/ledger/adjustments', token, key, body });

  it('announces an adjustment in the trace of the request that asked for it', async () => {
    const userId = randomUUID();
    const traceId = randomUUID().replaceAll('-', '');
    const traceparent = `00-${traceId}-${'ab'.repeat(8)}-01`;
    const bonus = await call({
      method: 'POST',
      url: '/api/v1/admin/ledger/adjustments',
      token: admin,
      key: randomUUID(),
      body: { user_id: userId, kind: 'bonus', amount: usd(700), reason: 'traced' },
      headers: { traceparent },
    });
    expect(bonus.status).toBe(201);
    // The announcement follows the store, in another task than the request: the stored event kept the trace.
    const [announced] = await t.awaitPublished(
      'ledger.adjustment.applied.v1',
      (e) => e.data.user_id === userId,
    );
    expect(announced!.traceparent?.split('-')[1]).toBe(traceId);
    const stored = (await t.ledger.resources.store.readAll()).find(
      (e) => e.type === 'transfer-created' && (e.data as { id?: string }).id === bonus.body.transfer_id,
    );
    expect(stored?.metadata.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it('credits a bonus from promotions and debits a penalty into revenue, announcing each', async () => {
    const userId = randomUUID();
    const key = randomUUID();
    const bonus = await adjust(
      { user_id: userId, kind: 'bonus', amount: usd(5_000), reason: 'launch week' },
      key,
    );
    expect(bonus).toMatchObject({
      status: 201,
      body: {
        transfer_id: transferIds.adjustment(userId, key),
        user_id: userId,
        kind: 'bonus',
        amount: usd(5_000),
        reason: 'launch week',
      },
    });
    const penalty = await adjust({ user_id: userId, kind: 'penalty', amount: usd(1_200), reason: 'spam' });
    expect(penalty.status).toBe(201);
    const token = await t.token({ sub: userId });
    expect((await call({ url: '/api/v1/wallet', token })).body).toMatchObject({
      available: usd(3_800),
      total_earned: usd(5_000),
    });
    await expect
      .poll(async () =>
        (await t.published('ledger.adjustment.applied.v1'))
          .filter((e) => e.data.user_id === userId)
          .map((e) => [e.data.kind, e.data.amount.amount])
          .sort(),
      )
      .toEqual([
        ['bonus', 5_000],
        ['penalty', 1_200],
      ]);
    const statement = await call({ url: '/api/v1/wallet/transactions', token });
    expect(statement.body.items.map((l: { code: string; metadata: object }) => [l.code, l.metadata])).toEqual(
      [
        ['penalty', { origin: 'adjustment', kind: 'penalty', user_id: userId, reason: 'spam' }],
        ['bonus', { origin: 'adjustment', kind: 'bonus', user_id: userId, reason: 'launch week' }],
      ],
    );
    const again = await adjust(
      { user_id: userId, kind: 'bonus', amount: usd(5_000), reason: 'launch week' },
      key,
    );
    expect([again.status, again.headers['idempotent-replayed'], again.body]).toEqual([
      201,
      'true',
      bonus.body,
    ]);
  });

  it('refuses a penalty that would overdraw: 409 INSUFFICIENT_FUNDS', async () => {
    const userId = randomUUID();
    await adjust({ user_id: userId, kind: 'bonus', amount: usd(1_000), reason: 'r' });
    expect(await adjust({ user_id: userId, kind: 'penalty', amount: usd(1_001), reason: 'r' })).toMatchObject(
      {
        status: 409,
        body: { code: 'INSUFFICIENT_FUNDS' },
      },
    );
  });

  it('refuses a top-up or an adjustment above the per-operation bound: 422 AMOUNT_TOO_LARGE, nothing stored', async () => {
    const max = t.config.LEDGER_ADMIN_MAX_AMOUNT_MINOR;
    const companyId = randomUUID();
    const userId = randomUUID();
    const before = await storedEvents();
    const refused = { status: 422, body: { code: 'AMOUNT_TOO_LARGE', max_amount: max } };
    expect(await topup(companyId, randomUUID(), max + 1)).toMatchObject(refused);
    expect(await topup(companyId, randomUUID(), Number.MAX_SAFE_INTEGER)).toMatchObject(refused);
    for (const kind of ['bonus', 'penalty']) {
      expect(await adjust({ user_id: userId, kind, amount: usd(max + 1), reason: 'typo' })).toMatchObject(
        refused,
      );
    }
    expect(await storedEvents()).toBe(before);
    expect(await topup(companyId, randomUUID(), max)).toMatchObject({ status: 201 });
  });

  it('takes exactly 10 of 50 concurrent penalties of 10.00 against 100.00', async () => {
    const userId = randomUUID();
    await adjust({ user_id: userId, kind: 'bonus', amount: usd(10_000), reason: 'seed' });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        adjust({ user_id: userId, kind: 'penalty', amount: usd(1_000), reason: 'concurrent' }),
      ),
    );
    const outcomes = responses.map((r) => (r.status === 201 ? 201 : `${r.status} ${r.body.code}`));
    expect(outcomes.filter((o) => o === 201)).toHaveLength(10);
    expect(outcomes.filter((o) => o === '409 INSUFFICIENT_FUNDS')).toHaveLength(40);
    await t.projected();
    const token = await t.token({ sub: userId });
    expect((await call({ url: '/api/v1/wallet', token })).body.available).toEqual(usd(0));
    const account = await t.ledger.resources.engine.getAccount(accountIds.userAvailable(userId), 'USD');
    expect(account).toMatchObject({ credits_posted: 10_000, debits_posted: 10_000, debits_pending: 0 });
  });

  it('is for admins only, and validates everything before storing anything', async () => {
    const userId = randomUUID();
    const body = { user_id: userId, kind: 'bonus', amount: usd(100), reason: 'r' };
    for (const role of ['contributor', 'company'] as const) {
      expect(await adjust(body, randomUUID(), await t.token({ role }))).toMatchObject({ status: 403 });
    }
    const before = await storedEvents();
    for (const bad of [
      { ...body, kind: 'gift' },
      { ...body, user_id: 'nobody' },
      { ...body, amount: 100 },
      { ...body, amount: { amount: 1.5, currency: 'USD' } },
      { ...body, reason: '' },
      { ...body, reason: 'x'.repeat(201) },
      { ...body, reason: 'nul \u0000 inside' },
      { ...body, reason: 'invoice\u202Efdp.exe' },
      { user_id: userId, kind: 'bonus', amount: usd(100) },
    ]) {
      // A NUL is refused by the kit, before the route's validation.
      const code = JSON.stringify(bad).includes('\\u0000') ? 'INVALID_CHARACTERS' : 'VALIDATION_FAILED';
      expect(await adjust(bad)).toMatchObject({ status: 400, body: { code } });
    }
    expect(
      await call({ method: 'POST', url: '/api/v1/admin/ledger/adjustments', token: admin, body }),
    ).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await storedEvents()).toBe(before);
  });
});

describe('admin reads', () => {
  it('shows an account in every currency with its recent lines', async () => {
    const userId = randomUUID();
    await t.deliver(
      'ledger-engagement',
      foreign('engagement.bonus.awarded.v1', {
        bonus_id: randomUUID(),
        user_id: userId,
        amount: usd(400),
        reason_code: 'r',
      }),
    );
    await t.deliver(
      'ledger-engagement',
      foreign('engagement.bonus.awarded.v1', {
        bonus_id: randomUUID(),
        user_id: userId,
        amount: { amount: 90, currency: 'EUR' },
        reason_code: 'r',
      }),
    );
    await t.projected();
    const id = accountIds.userAvailable(userId);
    const response = await call({ url: `/api/v1/admin/ledger/accounts/${id}`, token: admin });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ account_id: id, kind: 'user_available', owner: userId });
    expect(
      response.body.balances.map((b: { currency: string; available: unknown; recent_lines: unknown[] }) => [
        b.currency,
        b.available,
        b.recent_lines.length,
      ]),
    ).toEqual([
      ['EUR', { amount: 90, currency: 'EUR' }, 1],
      ['USD', usd(400), 1],
    ]);
    const encoded = await call({
      url: `/api/v1/admin/ledger/accounts/${encodeURIComponent(id)}`,
      token: admin,
    });
    expect(encoded.status).toBe(200);
  });

  it('refuses ids outside the chart, is 404 for an account without entries, and admin-only', async () => {
    expect(await call({ url: '/api/v1/admin/ledger/accounts/bank', token: admin })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_ACCOUNT' },
    });
    expect(
      await call({ url: `/api/v1/admin/ledger/accounts/user:${randomUUID()}:available`, token: admin }),
    ).toMatchObject({ status: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
    expect(
      await call({ url: '/api/v1/admin/ledger/accounts/world', token: await t.token({ role: 'company' }) }),
    ).toMatchObject({ status: 403 });
  });

  it('summarises the platform, and every account sums to zero', async () => {
    await t.projected();
    const response = await call({ url: '/api/v1/admin/ledger/summary', token: admin });
    expect(response.status).toBe(200);
    const s = response.body;
    expect(s.currency).toBe('USD');
    expect(s.balanced).toBe(true);
    expect(s.world.amount).toBeLessThan(0);
    expect(s.revenue.amount).toBeGreaterThan(0);
    expect(
      s.user_liability.amount +
        s.company_credits.amount +
        s.campaign_escrow.amount +
        s.revenue.amount -
        s.promotions_spent.amount -
        s.quality_spent.amount +
        s.world.amount,
    ).toBe(0);
    expect((await call({ url: '/api/v1/admin/ledger/summary', token: await t.token() })).status).toBe(403);
  });

  it('counts the honeypot review fees the platform paid as quality spent', async () => {
    await t.projected();
    type Summary = Record<'quality_spent' | 'user_liability' | 'promotions_spent', { amount: number }>;
    const before = (await call({ url: '/api/v1/admin/ledger/summary', token: admin })).body as Summary;
    const { campaignId } = await t.fundedCampaign();
    const earned = foreign('qc.honeypot.fee-earned.v1', {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      assignment_id: await t.claim({ campaignId, contributorId: randomUUID(), reward: 0, judgeFee: 40 }),
      campaign_id: campaignId,
      judge_id: randomUUID(),
      fee: usd(40),
    });
    await t.deliver('ledger-qc', earned);
    await t.outcomes('ledger.honeypot-fee.paid.v1', earned.id);
    await t.projected();
    const after = (await call({ url: '/api/v1/admin/ledger/summary', token: admin })).body as Summary & {
      balanced: boolean;
    };
    expect(after.quality_spent).toEqual(usd(before.quality_spent.amount + 40));
    expect(after.user_liability).toEqual(usd(before.user_liability.amount + 40));
    expect(after.promotions_spent).toEqual(before.promotions_spent);
    expect(after.balanced).toBe(true);
  });
});

describe('documentation', () => {
  it('describes every route in OpenAPI', async () => {
    const docs = (await call({ url: '/docs/json' })).body as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/wallet',
        '/api/v1/wallet/transactions',
        '/api/v1/companies/{id}/credits',
        '/api/v1/companies/{id}/topups',
        '/api/v1/campaigns/{id}/budget',
        '/api/v1/admin/ledger/adjustments',
        '/api/v1/admin/ledger/accounts/{id}',
        '/api/v1/admin/ledger/summary',
        '/api/v1/admin/ledger/promotions',
      ]),
    );
  });
});
