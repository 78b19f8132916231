import { ADMIN_SUMMARY_PATH } from '@tessera/service-kit';
import { expectAdminsOnly } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTasks, type TestTasks } from './testing/harness.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks();
});
afterAll(async () => {
  await t?.stop();
});

async function summary() {
  const response = await t.inject({ url: ADMIN_SUMMARY_PATH, token: await t.token({ role: 'admin' }) });
  expect(response.status).toBe(200);
  return response.body as { active_campaigns: number; active_tasks: number; open_assignments: number };
}

describe("tasks' figures for the admin dashboard", () => {
  it('counts an active campaign, its tasks, and a claim being worked on until it is released', async () => {
    const before = await summary();
    const campaign = await t.fixtures.activeCampaign({});
    const task = await t.fixtures.task(campaign.id, {});
    await t.fixtures.task(campaign.id, {});
    expect(await summary()).toEqual({
      active_campaigns: before.active_campaigns + 1,
      active_tasks: before.active_tasks + 2,
      open_assignments: before.open_assignments,
    });

    const { user_id } = await t.fixtures.contributor({});
    const token = await t.token({ sub: user_id, role: 'contributor' });
    const claimed = await t.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim`, token });
    expect(claimed.status).toBe(201);
    expect((await summary()).open_assignments).toBe(before.open_assignments + 1);
    const released = await t.inject({
      method: 'POST',
      url: `/api/v1/assignments/${claimed.body.assignment.id}/release`,
      token,
    });
    expect(released.status).toBe(200);
    expect((await summary()).open_assignments).toBe(before.open_assignments);
  });

  it('answers admins only', () => expectAdminsOnly(t, ADMIN_SUMMARY_PATH));
});
