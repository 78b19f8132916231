import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Platform, sharedPlatform } from './platform.ts';

let platform: Platform;

beforeAll(async () => {
  platform = await sharedPlatform();
  // The gateway answers before it has necessarily reached identity: wait until it does.
  const deadline = Date.now() + 60_000;
  let last = 'nothing yet';
  for (;;) {
    const ok = await fetch(`${platform.baseUrl}/.well-known/jwks.json`).then(
      async (r) => ((last = `${r.status} ${(await r.text()).slice(0, 300)}`), r.ok),
      (e: Error) => ((last = e.message), false),
    );
    if (ok) break;
    if (Date.now() > deadline)
      throw new Error(`identity did not answer through the gateway (last: ${last}):\n${platform.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
});

/** Enough of the answers' shapes to read them; the assertions check the rest. */
interface Answer {
  code?: string;
  user?: { email_verified: boolean };
  messages?: Array<{ text: string }>;
  session?: { access_token: string; refresh_token: string };
}

async function call(method: string, path: string, options: { body?: unknown; token?: string } = {}) {
  const response = await fetch(`${platform.baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Answer };
}

describe('identity through the gateway', () => {
  it('signs up, verifies the email from the dev mailbox, logs in, reads me, refreshes and logs out', async () => {
    // Other e2e specs share this database: an address of our own.
    const email = `e2e.${randomBytes(6).toString('hex')}@example.test`;
    const password = 'e2e-violet-harbour-lantern';

    const signup = await call('POST', '/auth/signup', { body: { email, password, full_name: 'E2E Person' } });
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);
    expect(signup.body.user!.email_verified).toBe(false);

    const mail = await call('GET', `/dev/mailbox?to=${encodeURIComponent(email)}`);
    expect(mail.status).toBe(200);
    const otp = /\b(\d{6})\b/.exec(mail.body.messages![0]!.text)?.[1];
    expect(otp).toMatch(/^\d{6}$/);
    const verified = await call('POST', '/auth/verify-email', { body: { email, otp } });
    expect([verified.status, verified.body]).toEqual([200, { email_verified: true }]);

    const login = await call('POST', '/auth/login', { body: { email, password } });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const session = login.body.session!;

    const me = await call('GET', '/api/v1/users/me', { token: session.access_token });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({
      email,
      full_name: 'E2E Person',
      role: 'contributor',
      email_verified: true,
    });

    const refreshed = await call('POST', '/auth/refresh', { body: { refresh_token: session.refresh_token } });
    expect(refreshed.status).toBe(200);
    const next = refreshed.body.session!;
    expect(next.refresh_token).not.toBe(session.refresh_token);

    const logout = await call('POST', '/auth/logout', { token: next.access_token });
    expect(logout.status).toBe(204);
    const after = await call('POST', '/auth/refresh', { body: { refresh_token: next.refresh_token } });
    expect([after.status, after.body.code]).toEqual([401, 'SESSION_REVOKED']);
  });
});
