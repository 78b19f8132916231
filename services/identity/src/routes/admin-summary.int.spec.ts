import { ADMIN_SUMMARY_PATH } from '@tessera/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSession,
  auth,
  signUp,
  type SignedUp,
  startIdentity,
  type TestIdentity,
} from '../testing/harness.ts';

let t: TestIdentity;
let admin: SignedUp;

beforeAll(async () => {
  t = await startIdentity();
  admin = await adminSession(t);
});
afterAll(async () => t?.stop());

interface Summary {
  users: { active: number; suspended: number; erased: number; active_last_30_days: number };
  companies: number;
}

async function summary(): Promise<Summary> {
  const response = await t.app.inject({ url: ADMIN_SUMMARY_PATH, headers: auth(admin.access) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Summary>();
}

describe("identity's figures for the admin dashboard", () => {
  it('counts a sign-up as active, recent once logged in,, a suspension as suspended, and a company', async () => {
    const before = await summary();
    const user = await signUp(t, { role: 'company' });
    const afterSignUp = await summary();
    expect(afterSignUp.users).toMatchObject({
      active: before.users.active + 1,
      active_last_30_days: before.users.active_last_30_days,
    });
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expect(login.statusCode, login.body).toBe(200);
    // A login is what makes a user recently active.
    expect((await summary()).users.active_last_30_days).toBe(before.users.active_last_30_days + 1);

    const company = await t.app.inject({
      method: 'POST',
      url: '/api/v1/companies',
      headers: auth(user.access),
      payload: { name: 'Summary Co' },
    });
    expect(company.statusCode, company.body).toBe(201);
    const suspended = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${user.id}/status`,
      headers: auth(admin.access),
      payload: { status: 'suspended', reason: 'summary check' },
    });
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(await summary()).toEqual({
      users: {
        active: before.users.active,
        suspended: before.users.suspended + 1,
        erased: before.users.erased,
        active_last_30_days: before.users.active_last_30_days,
      },
      companies: before.companies + 1,
    });
  });

  it('answers admins only', async () => {
    const contributor = await signUp(t);
    const refused = await t.app.inject({ url: ADMIN_SUMMARY_PATH, headers: auth(contributor.access) });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'FORBIDDEN']);
    expect((await t.app.inject({ url: ADMIN_SUMMARY_PATH })).statusCode).toBe(401);
  });
});
