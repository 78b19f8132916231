import { ADMIN_SUMMARY_PATH } from '@tessera/service-kit';
import { expectAdminsOnly } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQc, type TestQc } from '../testing/harness.ts';

let t: TestQc;

beforeAll(async () => {
  t = await startTestQc();
});
afterAll(async () => {
  await t?.stop();
});

async function summary() {
  const response = await t.inject({ url: ADMIN_SUMMARY_PATH, token: await t.token({ role: 'admin' }) });
  expect(response.status).toBe(200);
  return response.body as {
    pending_reviews: number;
    escalations: number;
    open_appeals: number;
    active_judges: number;
  };
}

describe("qc's figures for the admin dashboard", () => {
  it('counts a validated submission as a case waiting for reviews', async () => {
    const before = await summary();
    const task = await t.fixtures.task('text');
    await t.fixtures.submission(task);
    await t.fixtures.submission(task);
    expect(await summary()).toEqual({ ...before, pending_reviews: before.pending_reviews + 2 });
  });

  it('answers admins only', () => expectAdminsOnly(t, ADMIN_SUMMARY_PATH));
});
