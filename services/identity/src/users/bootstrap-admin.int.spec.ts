import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDatabase, createLogger, systemClock } from '@tessera/service-kit';
import { createTestDatabase, readStream, waitFor } from '@tessera/service-kit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { IdentityDB } from '../db/schema.ts';
import { createIdentity } from '../runtime.ts';
import {
  adminSession,
  auth,
  GOOD_PASSWORD,
  startIdentity,
  type TestIdentity,
  uniqueEmail,
} from '../testing/harness.ts';
import { bootstrapAdmin } from './bootstrap-admin.ts';

const running: TestIdentity[] = [];
afterAll(async () => {
  for (const t of running.reverse()) await t.stop();
});

async function start(env: Record<string, unknown> = {}, sharing?: TestIdentity) {
  const t = await startIdentity(env, sharing);
  running.push(t);
  return t;
}

const login = (t: TestIdentity, email: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });

describe('the first admin', () => {
  it('is created at start from ADMIN_EMAIL and ADMIN_PASSWORD, verified, and announced', async () => {
    const email = uniqueEmail('root');
    const t = await start({
      ADMIN_EMAIL: email,
      ADMIN_PASSWORD: GOOD_PASSWORD,
      ADMIN_FULL_NAME: 'Root Admin',
    });
    const response = await login(t, email, GOOD_PASSWORD);
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({
      role: 'admin',
      email_verified: true,
      full_name: 'Root Admin',
    });
    const events = await waitFor(async () => {
      const all = await readStream(t.service.bus, 'identity');
      return all.length >= 2 && all.map((e) => (e.data as { type: string }).type);
    });
    expect(events).toEqual(['identity.user.registered.v1', 'identity.user.email-verified.v1']);

    // A second instance (or a restart) with other bootstrap settings creates no second admin.
    const other = uniqueEmail('root2');
    const second = await start({ ADMIN_EMAIL: other, ADMIN_PASSWORD: GOOD_PASSWORD }, t);
    expect((await login(second, other, GOOD_PASSWORD)).statusCode).toBe(401);
    const admins = await t.service.db.selectFrom('users').select('id').where('role', '=', 'admin').execute();
    expect(admins).toHaveLength(1);
  });

  it('refuses a weak ADMIN_PASSWORD (the service then fails to start)', async () => {
    const t = await start();
    const config = { ...t.identity.config, ADMIN_EMAIL: uniqueEmail('root'), ADMIN_PASSWORD: 'password1' };
    await expect(bootstrapAdmin({ ...t.identity, config })).rejects.toThrow(/ADMIN_PASSWORD is refused/);
    expect(await t.service.db.selectFrom('users').select('id').execute()).toEqual([]);
  });

  // Three tsx processes on a busy two-core machine: give them time.
  it('is created by the create-admin CLI on a fresh database, once', { timeout: 120_000 }, async () => {
    const database = await createTestDatabase('identity_cli');
    const cli = fileURLToPath(new URL('../../scripts/create-admin.ts', import.meta.url));
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], {
        env: { ...process.env, DATABASE_URL: database.url, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' },
      });
    try {
      const email = uniqueEmail('cli');
      const first = await run(['--email', email, '--password', GOOD_PASSWORD, '--name', 'CLI Admin']);
      expect(first.stdout).toMatch(/^created admin [0-9a-f-]{36}/);
      const again = await run(['--email', uniqueEmail('cli'), '--password', GOOD_PASSWORD]);
      expect(again.stdout).toMatch(/an admin already exists/);
      const db = createDatabase<IdentityDB>(database.url, { max: 1 });
      const rows = await db.selectFrom('users').select(['role', 'email_verified_at']).execute();
      const outbox = await db.selectFrom('outbox').select('type').orderBy('position').execute();
      await db.destroy();
      expect(rows).toEqual([{ role: 'admin', email_verified_at: expect.any(Date) }]);
      expect(outbox.map((r) => r.type)).toEqual([
        'identity.user.registered.v1',
        'identity.user.email-verified.v1',
      ]);
      await expect(run(['--email', 'not-an-email'])).rejects.toMatchObject({ code: 2 });
    } finally {
      await database.drop();
    }
  });
});

describe('production settings', () => {
  it('serve no dev mailbox', async () => {
    const t = await start({
      NODE_ENV: 'production',
      IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SMTP_URL: 'smtp://127.0.0.1:1',
      PUBLIC_APP_URL: 'https://app.example.test',
      // Production requires the service's own NATS credentials; the test server is open to any.
      NATS_USER: 'identity',
      NATS_PASSWORD: 'test-only-password',
    });
    const response = await t.app.inject({ url: `/dev/mailbox?to=${encodeURIComponent(uniqueEmail())}` });
    expect([response.statusCode, response.json().code]).toEqual([404, 'NOT_FOUND']);
    expect(t.identity.mailer.transport).toBe('smtp');
  });

  it('serve no dev mailbox outside production either once mail goes out by SMTP', async () => {
    const t = await start({ NODE_ENV: 'development', SMTP_URL: 'smtp://127.0.0.1:1' });
    const response = await t.app.inject({ url: `/dev/mailbox?to=${encodeURIComponent(uniqueEmail())}` });
    expect([response.statusCode, response.json().code]).toEqual([404, 'NOT_FOUND']);
    expect(t.identity.mailer.transport).toBe('smtp');
  });

  it('refuse to start on signing keys sealed with another key-encryption key', async () => {
    const t = await start({ IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') });
    const otherKey = createIdentity(
      { ...t.config, IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
      t.service.db,
      createLogger({ name: 'identity', level: 'silent', pretty: false }),
      { clock: systemClock },
    );
    await expect(otherKey.keys.initialize()).rejects.toThrow(/cannot be decrypted/);
    const admin = await adminSession(t);
    expect((await t.app.inject({ url: '/api/v1/users/me', headers: auth(admin.access) })).statusCode).toBe(
      200,
    );
  });
});
