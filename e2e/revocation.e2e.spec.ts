import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayClient, type Reply, show } from './client.ts';
import { e2eAdmin, type Platform, sharedPlatform } from './platform.ts';

// Identity's revocations reach every service: a logged-out or suspended session's token and a
// revoked API key's token are refused by identity, tasks and the ledger within a second of the
// revocation, not at the token's expiry (identity.principal.revoked.v1 into each service's kit
// read model).

let platform: Platform;
const { call, waitFor, logIn } = gatewayClient(() => platform);

beforeAll(async () => {
  platform = await sharedPlatform();
  // Without a token each answers 401 itself; 502 would mean it is not up yet.
  for (const path of ['/api/v1/users/me', '/api/v1/campaigns', '/api/v1/wallet']) {
    await waitFor(`${path} did not answer through the gateway`, 60_000, async () =>
      (await call('GET', path)).status === 401 ? true : undefined,
    );
  }
});

const password = 'e2e-slate-orchard-beacon';

async function companyUser(): Promise<{ email: string; userId: string }> {
  const email = `e2e.revocation.${randomBytes(6).toString('hex')}@example.test`;
  const signup = await call('POST', '/auth/signup', {
    body: { email, password, full_name: 'E2E Revocation', role: 'company' },
  });
  expect(signup.status, show(signup)).toBe(201);
  return { email, userId: (signup.body as { user: { id: string } }).user.id };
}

/** One path per service, each a read the token may make. */
function probes(companyId: string) {
  return {
    identity: `/api/v1/companies/${companyId}`,
    tasks: '/api/v1/campaigns',
    ledger: `/api/v1/companies/${companyId}/credits`,
  };
}

async function allAnswer(token: string, paths: Record<string, string>, status: number): Promise<void> {
  for (const [service, path] of Object.entries(paths)) {
    await waitFor(`${service} to answer ${status} at ${path}`, 45_000, async () => {
      const reply = await call('GET', path, { token });
      return reply.status === status ? reply : undefined;
    });
  }
}

/**
 * Polls every service with `token` from `since` until each refuses it with 401; returns how long
 * each took and what it said.
 */
async function refusalTimes(
  token: string,
  paths: Record<string, string>,
  since: number,
): Promise<Record<string, { ms: number; code: string }>> {
  const entries = await Promise.all(
    Object.entries(paths).map(async ([service, path]) => {
      for (;;) {
        const reply: Reply = await call('GET', path, { token });
        if (reply.status === 401) {
          return [service, { ms: Date.now() - since, code: (reply.body as { code: string }).code }] as const;
        }
        if (Date.now() - since > 10_000) {
          throw new Error(`${service} still answers ${show(reply)} at ${path}:\n${platform.output()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }),
  );
  const result = Object.fromEntries(entries);
  console.log(`[revocation e2e] refused after ${JSON.stringify(result)}`);
  return result;
}

describe('revocation reaches every service', () => {
  let user: { email: string; userId: string };
  let companyId: string;
  let paths: ReturnType<typeof probes>;

  beforeAll(async () => {
    user = await companyUser();
    const { token } = await logIn(user.email, password);
    const created = await call('POST', '/api/v1/companies', {
      token,
      body: { name: `E2E Revocation Co ${randomBytes(3).toString('hex')}` },
    });
    expect(created.status, show(created)).toBe(201);
    companyId = (created.body as { company: { id: string } }).company.id;
    paths = probes(companyId);
    // The ledger learns the membership from identity's events.
    await allAnswer(token, paths, 200);
  });

  it('a logged-out session’s token is refused by identity, tasks and the ledger within a second', async () => {
    const { token } = await logIn(user.email, password);
    const { token: otherSession } = await logIn(user.email, password);
    await allAnswer(token, paths, 200);

    const out = await call('POST', '/auth/logout', { token });
    expect(out.status, show(out)).toBe(204);
    const times = await refusalTimes(token, paths, Date.now());
    expect(times).toEqual({
      identity: { ms: expect.any(Number), code: 'SESSION_REVOKED' },
      tasks: { ms: expect.any(Number), code: 'TOKEN_REVOKED' },
      ledger: { ms: expect.any(Number), code: 'TOKEN_REVOKED' },
    });
    for (const { ms } of Object.values(times)) expect(ms).toBeLessThan(1_000);
    // The same person's other session lives on.
    await allAnswer(otherSession, paths, 200);
  });

  it('a revoked API key’s token is refused by identity, tasks and the ledger within a second', async () => {
    const { token } = await logIn(user.email, password);
    const key = await call('POST', `/api/v1/companies/${companyId}/api-keys`, {
      token,
      body: { name: 'e2e bot', scopes: ['company:read', 'campaigns:read', 'billing:read'] },
    });
    expect(key.status, show(key)).toBe(201);
    const { api_key, secret } = key.body as { api_key: { id: string }; secret: string };
    const exchanged = await call('POST', '/auth/token', { body: { api_key: secret } });
    expect(exchanged.status, show(exchanged)).toBe(200);
    const keyToken = (exchanged.body as { access_token: string }).access_token;
    await allAnswer(keyToken, paths, 200);

    const revoked = await call('DELETE', `/api/v1/companies/${companyId}/api-keys/${api_key.id}`, { token });
    expect(revoked.status, show(revoked)).toBe(204);
    const times = await refusalTimes(keyToken, paths, Date.now());
    expect(times).toEqual({
      identity: { ms: expect.any(Number), code: 'API_KEY_REVOKED' },
      tasks: { ms: expect.any(Number), code: 'TOKEN_REVOKED' },
      ledger: { ms: expect.any(Number), code: 'TOKEN_REVOKED' },
    });
    for (const { ms } of Object.values(times)) expect(ms).toBeLessThan(1_000);
  });

  it('a suspended company user loses company access everywhere within a second', async () => {
    const { token } = await logIn(user.email, password);
    await allAnswer(token, paths, 200);
    const admin = await logIn(e2eAdmin.email, e2eAdmin.password);

    const suspended = await call('PUT', `/api/v1/admin/users/${user.userId}/status`, {
      token: admin.token,
      body: { status: 'suspended', reason: 'e2e revocation check' },
    });
    expect(suspended.status, show(suspended)).toBe(200);
    const times = await refusalTimes(token, paths, Date.now());
    expect(times).toEqual({
      identity: { ms: expect.any(Number), code: 'SESSION_REVOKED' },
      tasks: { ms: expect.any(Number), code: 'TOKEN_REVOKED' },
      ledger: { ms: expect.any(Number), code: 'TOKEN_REVOKED' },
    });
    for (const { ms } of Object.values(times)) expect(ms).toBeLessThan(1_000);
    const login = await call('POST', '/auth/login', { body: { email: user.email, password } });
    expect([login.status, (login.body as { code: string }).code]).toEqual([403, 'ACCOUNT_SUSPENDED']);
  });
});

describe('members join by invitation through the gateway', () => {
  it('invites an address, the person accepts the mailed invitation, and the ledger then admits them', async () => {
    const manager = await companyUser();
    const { token } = await logIn(manager.email, password);
    const created = await call('POST', '/api/v1/companies', { token, body: { name: 'E2E Invitations Co' } });
    expect(created.status, show(created)).toBe(201);
    const companyId = (created.body as { company: { id: string } }).company.id;

    const person = await companyUser();
    const mailTo = async (kind: string) => {
      const mail = await call('GET', `/dev/mailbox?to=${encodeURIComponent(person.email)}`);
      const messages = (mail.body as { messages: Array<{ kind: string; text: string }> }).messages;
      return messages.find((m) => m.kind === kind)?.text;
    };
    const verification = await waitFor('the verification mail', 10_000, () => mailTo('email_verification'));
    const otp = /\b(\d{6})\b/.exec(verification)?.[1];
    const verified = await call('POST', '/auth/verify-email', { body: { email: person.email, otp } });
    expect(verified.status, show(verified)).toBe(200);

    const invited = await call('POST', `/api/v1/companies/${companyId}/invitations`, {
      token,
      body: { email: person.email, member_role: 'viewer' },
    });
    expect(invited.status, show(invited)).toBe(202);
    const credits = `/api/v1/companies/${companyId}/credits`;
    const { token: personToken } = await logIn(person.email, password);
    expect((await call('GET', credits, { token: personToken })).status).toBe(404);

    const text = await waitFor('the invitation mail', 10_000, () => mailTo('company_invitation'));
    const code = /token=([A-Za-z0-9_-]{43})/.exec(text)?.[1];
    const accepted = await call('POST', '/api/v1/invitations/accept', {
      token: personToken,
      body: { token: code },
    });
    expect(accepted.status, show(accepted)).toBe(201);
    await allAnswer(personToken, { ledger: credits }, 200);
  });
});
