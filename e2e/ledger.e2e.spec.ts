import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Platform, sharedPlatform } from './platform.ts';

let platform: Platform;

/** Polls `probe` every 250 ms until it says yes, or throws with the platform's output at the deadline. */
async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms:\n${platform.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  platform = await sharedPlatform();
  // The gateway answers before it has necessarily reached its upstreams: wait for both services.
  await waitFor('identity did not answer through the gateway', 60_000, async () => {
    const response = await fetch(`${platform.baseUrl}/.well-known/jwks.json`);
    return response.ok;
  });
  // Without a token the ledger itself answers 401; the gateway would say 502 while it is down, and
  // a 404 would mean the route reached nobody (or the wrong service).
  await waitFor('the ledger did not answer through the gateway', 60_000, async () => {
    const response = await fetch(`${platform.baseUrl}/api/v1/wallet`);
    return response.status === 401;
  });
});

interface Problem {
  status: number;
  code: string;
  detail?: string;
}

interface Reply {
  status: number;
  contentType: string;
  // Enough of the answers' shapes to read them; the assertions check the rest.
  body: Record<string, unknown> & Partial<Problem>;
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const response = await fetch(`${platform.baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: (text ? JSON.parse(text) : {}) as Reply['body'],
  };
}

const show = (reply: Reply) => `${reply.status} ${JSON.stringify(reply.body)}`;

/** A new account of `role` (a unique address: other e2e specs share these databases), logged in. */
async function signUpAndLogIn(role: 'company' | 'contributor'): Promise<{ userId: string; token: string }> {
  const email = `e2e.ledger.${role}.${randomBytes(6).toString('hex')}@example.test`;
  const password = 'e2e-copper-meadow-lantern';
  const signup = await call('POST', '/auth/signup', {
    body: { email, password, full_name: `E2E ${role}`, role },
  });
  expect(signup.status, show(signup)).toBe(201);
  const user = signup.body.user as { id: string; role: string };
  expect(user.role).toBe(role);
  // Login and company creation do not require a verified email (identity's README and routes).
  const login = await call('POST', '/auth/login', { body: { email, password } });
  expect(login.status, show(login)).toBe(200);
  expect((login.body.user as { id: string }).id).toBe(user.id);
  return { userId: user.id, token: (login.body.session as { access_token: string }).access_token };
}

describe('the ledger through the gateway, authorised by identity', () => {
  it("shows a company's credits to its members only, once the ledger has heard of them", async () => {
    const manager = await signUpAndLogIn('company');
    const contributor = await signUpAndLogIn('contributor');

    // Identity owns /api/v1/companies.
    const companyName = `E2E Ledger Co ${randomBytes(3).toString('hex')}`;
    const created = await call('POST', '/api/v1/companies', {
      token: manager.token,
      body: { name: companyName },
    });
    expect(created.status, show(created)).toBe(201);
    const company = created.body.company as { id: string; name: string; my_role: string };
    expect(company).toMatchObject({ name: companyName, my_role: 'manager' });
    const companyId = company.id;
    const creditsPath = `/api/v1/companies/${companyId}/credits`;

    // The ledger learns the membership from identity.company.member-added.v1 over NATS; until then
    // it refuses the manager like any stranger (404 COMPANY_NOT_FOUND from its membership check).
    const started = Date.now();
    const seen = new Map<string, number>();
    let credits: Reply | undefined;
    for (;;) {
      const reply = await call('GET', creditsPath, { token: manager.token });
      if (reply.status === 200) {
        credits = reply;
        break;
      }
      const key = `${reply.status} ${reply.body.code}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      expect(
        [reply.status, reply.body.code],
        `the ledger answered the manager ${show(reply)} while catching up`,
      ).toEqual([404, 'COMPANY_NOT_FOUND']);
      if (Date.now() - started > 45_000) {
        throw new Error(`the ledger never saw the membership; last ${show(reply)}:\n${platform.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(
      `[ledger e2e] the ledger's company_members caught up ${Date.now() - started} ms after the ` +
        `company was created; before that: ${JSON.stringify(Object.fromEntries(seen))}`,
    );

    // Only the ledger's route has this shape (identity has no such path: it would answer 404), and it
    // took identity's token: the ledger verified it against the JWKS it fetched from identity.
    expect(credits.body).toEqual({ company_id: companyId, available: { amount: 0, currency: 'USD' } });
    const inUsd = await call('GET', `${creditsPath}?currency=USD`, { token: manager.token });
    expect([inUsd.status, inUsd.body]).toEqual([200, credits.body]);

    // A token the ledger cannot verify is refused by the ledger's authentication.
    const [header, payload, signature] = manager.token.split('.') as [string, string, string];
    const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const refused = await call('GET', creditsPath, { token: forged });
    expect([refused.status, refused.body.code], show(refused)).toEqual([401, 'TOKEN_INVALID']);
    const anonymous = await call('GET', creditsPath);
    expect([anonymous.status, anonymous.body.code], show(anonymous)).toEqual([401, 'UNAUTHENTICATED']);

    // Someone else: the ledger hides the company behind a 404, as identity does.
    const stranger = await call('GET', creditsPath, { token: contributor.token });
    expect(stranger.status, show(stranger)).toBe(404);
    expect(stranger.contentType).toContain('application/problem+json');
    expect(stranger.body).toMatchObject({
      status: 404,
      code: 'COMPANY_NOT_FOUND',
      detail: 'No such company.',
    });
    // And a company the ledger has never heard of is refused the same way, even to a member of another.
    const unknown = await call('GET', `/api/v1/companies/${randomUUID()}/credits`, { token: manager.token });
    expect([unknown.status, unknown.body.code], show(unknown)).toEqual([404, 'COMPANY_NOT_FOUND']);

    // The nested pattern takes only its own paths: the company itself is still identity's.
    const read = await call('GET', `/api/v1/companies/${companyId}`, { token: manager.token });
    expect(read.status, show(read)).toBe(200);
    expect(read.body.company).toMatchObject({
      id: companyId,
      name: companyName,
      billing_status: 'pending',
      my_role: 'manager',
    });
    // Identity's refusal reads as the ledger's: the company is hidden from a non-member.
    const hidden = await call('GET', `/api/v1/companies/${companyId}`, { token: contributor.token });
    expect([hidden.status, hidden.body.code], show(hidden)).toEqual([404, 'COMPANY_NOT_FOUND']);
    expect(hidden.body.detail).toBe(stranger.body.detail);
    const members = await call('GET', `/api/v1/companies/${companyId}/members`, { token: manager.token });
    expect(members.status, show(members)).toBe(200);
    expect(members.body.members).toEqual([
      expect.objectContaining({ user_id: manager.userId, member_role: 'manager' }),
    ]);

    // Every bearer has a wallet; a new contributor's is empty, in the ledger's currency.
    const wallet = await call('GET', '/api/v1/wallet', { token: contributor.token });
    expect(wallet.status, show(wallet)).toBe(200);
    const zero = { amount: 0, currency: 'USD' };
    expect(wallet.body).toEqual({ available: zero, held: zero, total_earned: zero, total_withdrawn: zero });
    const statement = await call('GET', '/api/v1/wallet/transactions', { token: contributor.token });
    expect([statement.status, statement.body], show(statement)).toEqual([
      200,
      { items: [], next_cursor: null },
    ]);

    // Top-ups are for admins: the company's own manager, with a well-formed request, is refused.
    const topup = await call('POST', `/api/v1/companies/${companyId}/topups`, {
      token: manager.token,
      headers: { 'idempotency-key': `e2e-topup-${randomUUID()}` },
      body: { amount: { amount: 5_000, currency: 'USD' }, reference: 'e2e wire transfer' },
    });
    expect(topup.status, show(topup)).toBe(403);
    expect(topup.contentType).toContain('application/problem+json');
    expect(topup.body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(topup.body.detail).toMatch(/admin/);
    // ... and nothing moved.
    const after = await call('GET', creditsPath, { token: manager.token });
    expect([after.status, after.body]).toEqual([200, credits.body]);
  });
});
