// Test support (not a spec): an identity service on its own database and subject prefix.
import { randomBytes } from 'node:crypto';
import { createLogger, type Logger, startService } from '@tessera/service-kit';
import { testServiceConfig, waitFor } from '@tessera/service-kit/testing';
import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';
import { type IdentityConfig, parseIdentityConfig } from '../config.ts';
import type { IdentityDB } from '../db/schema.ts';
import type { Identity } from '../runtime.ts';
import { identityDefinition, type RunningIdentity } from '../service.ts';
import { createAdmin } from '../users/bootstrap-admin.ts';

export const GOOD_PASSWORD = 'violet-harbour-51-lantern';

export function uniqueEmail(label = 'user'): string {
  return `${label}.${randomBytes(5).toString('hex')}@example.test`;
}

/** A clock tests can move forward; it follows real time otherwise. */
export function movableClock() {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(ms: number) {
      offsetMs += ms;
    },
  };
}

export interface TestIdentity {
  service: RunningIdentity;
  app: RunningIdentity['app'];
  identity: Identity;
  config: IdentityConfig;
  clock: ReturnType<typeof movableClock>;
  stop(): Promise<void>;
}

/**
 * `env` overrides the configuration; `sharing` starts a second instance on another's database and
 * subject prefix (its stop() leaves the database to the first); `logger` replaces the silent one.
 */
export async function startIdentity(
  env: Record<string, unknown> = {},
  sharing?: TestIdentity,
  options: { logger?: Logger } = {},
): Promise<TestIdentity> {
  const test = sharing
    ? { config: sharing.config, drop: async () => {} }
    : await testServiceConfig('identity');
  // Cheaper argon2 than production's: still argon2id, just fewer passes over less memory.
  const config = parseIdentityConfig({
    ...test.config,
    ARGON2_MEMORY_KIB: 8192,
    ARGON2_TIME_COST: 1,
    ...env,
  });
  const clock = movableClock();
  const service = await startService(identityDefinition(), config, {
    logger: options.logger ?? createLogger({ name: 'identity', level: 'silent', pretty: false }),
    clock: clock.now,
    relayPollIntervalMs: 50,
  });
  return {
    service,
    app: service.app,
    identity: service.resources,
    config,
    clock,
    async stop() {
      await service.stop();
      await test.drop();
    },
  };
}

/** The body of a response carrying a session (signup, login, refresh). */
export interface SessionBody {
  session: { access_token: string; refresh_token: string };
}

export function auth(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export interface SignedUp {
  id: string;
  email: string;
  password: string;
  access: string;
  refresh: string;
}

export async function signUp(
  t: TestIdentity,
  input: {
    email?: string;
    password?: string;
    role?: 'contributor' | 'company';
    full_name?: string;
    referral_code?: string;
  } = {},
): Promise<SignedUp> {
  const email = input.email ?? uniqueEmail(input.role ?? 'contributor');
  const password = input.password ?? GOOD_PASSWORD;
  const response = await t.app.inject({
    method: 'POST',
    url: '/auth/signup',
    payload: {
      email,
      password,
      full_name: input.full_name ?? 'Ada Tester',
      ...(input.role ? { role: input.role } : {}),
      ...(input.referral_code ? { referral_code: input.referral_code } : {}),
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json<{
    user: { id: string };
    session: { access_token: string; refresh_token: string };
  }>();
  return {
    id: body.user.id,
    email,
    password,
    access: body.session.access_token,
    refresh: body.session.refresh_token,
  };
}

/** An admin, created the way the bootstrap does, logged in. */
export async function adminSession(t: TestIdentity): Promise<SignedUp> {
  const email = uniqueEmail('admin');
  const outcome = await createAdmin(
    t.identity,
    { email, password: GOOD_PASSWORD, fullName: 'Root' },
    { onlyIfNoAdmin: false },
  );
  if (!outcome.created) throw new Error('admin not created');
  const login = await t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: GOOD_PASSWORD },
  });
  expect(login.statusCode, login.body).toBe(200);
  const session = login.json<{ session: { access_token: string; refresh_token: string } }>().session;
  return {
    id: outcome.userId,
    email,
    password: GOOD_PASSWORD,
    access: session.access_token,
    refresh: session.refresh_token,
  };
}

export async function countRows(t: TestIdentity, table: keyof IdentityDB): Promise<number> {
  const row = await t.service.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function mailbox(t: TestIdentity, to: string) {
  const response = await t.app.inject({ url: `/dev/mailbox?to=${encodeURIComponent(to)}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ messages: Array<{ subject: string; text: string; kind: string }> }>().messages;
}

export function otpIn(text: string): string {
  const match = /\b(\d{6})\b/.exec(text);
  if (!match?.[1]) throw new Error(`no code in: ${text}`);
  return match[1];
}

/** Proves the user's address with the code mailed at signup. */
export async function verifyEmail(t: TestIdentity, user: SignedUp): Promise<void> {
  const mail = await waitFor(
    async () => (await mailbox(t, user.email)).find((m) => m.kind === 'email_verification'),
    { what: `a verification mail for ${user.email}` },
  );
  const response = await t.app.inject({
    method: 'POST',
    url: '/auth/verify-email',
    payload: { email: user.email, otp: otpIn(mail.text) },
  });
  expect(response.statusCode, response.body).toBe(200);
}

/** The invitation code in the newest invitation mailed to `to`. */
export async function invitationTokenFor(t: TestIdentity, to: string): Promise<string> {
  const mails = (await mailbox(t, to)).filter((m) => m.kind === 'company_invitation');
  const match = /token=([A-Za-z0-9_-]{43})/.exec(mails.at(-1)?.text ?? '');
  if (!match?.[1]) throw new Error(`no invitation mailed to ${to}`);
  return match[1];
}

/** The way a person joins a company: a manager invites their address, they accept the mail. */
export async function joinCompany(
  t: TestIdentity,
  manager: SignedUp,
  companyId: string,
  member: SignedUp,
  memberRole: 'manager' | 'viewer' | 'billing',
): Promise<void> {
  const invite = await t.app.inject({
    method: 'POST',
    url: `/api/v1/companies/${companyId}/invitations`,
    headers: auth(manager.access),
    payload: { email: member.email, member_role: memberRole },
  });
  expect(invite.statusCode, invite.body).toBe(202);
  const accept = await t.app.inject({
    method: 'POST',
    url: '/api/v1/invitations/accept',
    headers: auth(member.access),
    payload: { token: await invitationTokenFor(t, member.email) },
  });
  expect(accept.statusCode, accept.body).toBe(201);
}

/**
 * Backends of this test's database waiting for a lock (row or table): how a test knows that a
 * request it started has reached the lock the test holds.
 */
export async function lockWaiters(t: TestIdentity): Promise<number> {
  const row = await sql<{ n: string }>`
    select count(*) as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`.execute(t.service.db);
  return Number(row.rows[0]?.n ?? 0);
}

/**
 * Sends `requests` one after the other while a transaction of the test holds the locks `hold`
 * takes: each is sent once those before it wait for a lock (or were answered), so they queue in
 * the order given. Then the locks are let go; the answers come back in that order.
 */
export async function inTurnWhileHolding<T>(
  t: TestIdentity,
  hold: (trx: Kysely<IdentityDB>) => Promise<unknown>,
  requests: Array<() => Promise<T>>,
): Promise<T[]> {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = () => {};
  const isHeld = new Promise<void>((resolve) => (held = resolve));
  const holder = t.service.db.transaction().execute(async (trx) => {
    await hold(trx);
    held();
    await released;
  });
  await Promise.race([isHeld, holder]);
  let answered = 0;
  const sent: Array<Promise<T>> = [];
  try {
    for (const send of requests) {
      sent.push(send().finally(() => answered++));
      await waitFor(async () => answered + (await lockWaiters(t)) >= sent.length, {
        what: `request ${sent.length} at a lock`,
      });
    }
  } finally {
    release();
    await holder;
  }
  return Promise.all(sent);
}
