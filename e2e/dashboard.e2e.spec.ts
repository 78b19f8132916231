import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayClient, show, usd } from './client.ts';
import { e2eAdmin, type Platform, sharedPlatform } from './platform.ts';

// The admin dashboard through the gateway of `npm start`: the gateway composes the real services'
// own figures (infra/gateway/src/dashboard.ts), each service checks the admin's token itself.

let platform: Platform;
const { call, waitFor, logIn } = gatewayClient(() => platform);

beforeAll(async () => {
  platform = await sharedPlatform();
  await waitFor('identity did not answer through the gateway', 60_000, async () =>
    (await fetch(`${platform.baseUrl}/api/v1/users/me`)).status === 401 ? true : undefined,
  );
});

async function signUp(): Promise<{ userId: string; token: string }> {
  const email = `e2e.dashboard.${randomBytes(6).toString('hex')}@example.test`;
  const password = 'e2e-slate-orchard-lantern';
  const signup = await call('POST', '/auth/signup', {
    body: { email, password, full_name: 'E2E Dashboard', role: 'contributor' },
  });
  expect(signup.status, show(signup)).toBe(201);
  return logIn(email, password);
}

describe('GET /api/v1/admin/dashboard through the gateway', () => {
  it("composes every service's figures, which move with what happens", async () => {
    const admin = await logIn(e2eAdmin.email, e2eAdmin.password);
    // Every service answers once it is up: wait until none is missing.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by the assertions
    const before: any = await waitFor('a dashboard with every service', 60_000, async () => {
      const reply = await call('GET', '/api/v1/admin/dashboard', { token: admin.token });
      return reply.status === 200 && reply.body.unavailable.length === 0
        ? (reply.body as unknown)
        : undefined;
    });
    for (const figure of ['pending_reviews', 'escalations', 'active_users', 'active_tasks']) {
      expect(before[figure], figure).toBeTypeOf('number');
    }
    expect(before.flagged_submissions).toEqual({ total: expect.any(Number), in_review: expect.any(Number) });
    expect(Array.isArray(before.pending_payouts)).toBe(true);
    expect(before.liability).toMatchObject({ currency: 'USD', amount: expect.any(Number) });
    expect(before.revenue).toMatchObject({ currency: 'USD', amount: expect.any(Number) });
    expect(before.ledger_balanced).toBe(true);

    // A new user is one more active user; a bonus to them is that much more owed to contributors.
    const newcomer = await signUp();
    const bonus = await call('POST', '/api/v1/admin/ledger/adjustments', {
      token: admin.token,
      key: `e2e-dashboard-${randomUUID()}`,
      body: { user_id: newcomer.userId, kind: 'bonus', amount: usd(1_234), reason: 'e2e dashboard bonus' },
    });
    expect(bonus.status, show(bonus)).toBe(201);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by the assertions
    const after: any = await waitFor('the bonus in the liability', 30_000, async () => {
      const reply = await call('GET', '/api/v1/admin/dashboard', { token: admin.token });
      return reply.body.liability?.amount === before.liability.amount + 1_234
        ? (reply.body as unknown)
        : undefined;
    });
    // Other specs share the database, but run one at a time: nobody else signs up meanwhile.
    expect(after.active_users).toBe(before.active_users + 1);
    expect(after.unavailable).toEqual([]);
  });

  it('refuses a contributor (403) and an anonymous caller (401)', async () => {
    const contributor = await signUp();
    const forbidden = await call('GET', '/api/v1/admin/dashboard', { token: contributor.token });
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'FORBIDDEN']);
    const anonymous = await call('GET', '/api/v1/admin/dashboard');
    expect(anonymous.status).toBe(401);
  });
});
