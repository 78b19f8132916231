import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { gotLock, waitFor } from '@tessera/service-kit/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TasksDB } from '../db/schema.ts';
import { lockCampaignsOf } from '../messaging/lock-campaigns.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';
import { expireDueAssignments } from './expiry.ts';

/*
 * Every transaction locks a campaign before its tasks and assignments (assignments/repository.ts).
 * Each test holds a campaign the way a consumer's batch does, starts the path under test, waits
 * until it queues behind that lock, and then takes an assignment of the campaign: had the path
 * locked the assignment first, Postgres would find a deadlock (after 1 s) and abort one of them.
 */

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

type Trx = Kysely<TasksDB>;

async function claim(taskId: string) {
  const token = await t.token({ sub: randomUUID(), role: 'contributor' });
  const response = await t.inject({ method: 'POST', url: `/api/v1/tasks/${taskId}/claim`, token });
  expect(response.status).toBe(201);
  return { id: response.body.assignment.id as string, token };
}

const lockRow = (trx: Trx, table: 'campaigns' | 'assignments', id: string) =>
  sql`select id from ${sql.table(table)} where id = ${id} for update`.execute(trx);

/** Whether a session of this database other than the caller's waits for a lock. */
async function someoneWaits(): Promise<boolean> {
  const { rows } = await sql<{ waiting: number }>`
    select count(*)::int as waiting from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`.execute(
    t.tasks.db,
  );
  return (rows[0]?.waiting ?? 0) > 0;
}

/**
 * Holds `campaignId` in a transaction, runs `path` beside it, waits for the path to queue, then
 * takes `assignmentId` in the holding transaction and commits. Answers what the path answered.
 */
async function holdingTheCampaign<T>(
  campaignId: string,
  assignmentId: string,
  path: () => Promise<T>,
): Promise<T> {
  let result: Promise<T> | undefined;
  await t.tasks.db.transaction().execute(async (trx) => {
    await lockRow(trx, 'campaigns', campaignId);
    result = path();
    result.catch(() => undefined);
    await waitFor(someoneWaits, { timeoutMs: 5_000, what: 'the path to queue behind the campaign lock' });
    await lockRow(trx, 'assignments', assignmentId);
  });
  return result!;
}

describe('lock order: campaign first', () => {
  it('the expiry job locks the campaign before its due claims', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id, { claim_ttl_seconds: 60 });
    const { id } = await claim(task.id);
    const now = new Date(Date.now() + 120_000);

    const expired = await holdingTheCampaign(campaign.id, id, () =>
      expireDueAssignments(t.tasks.db, { now }),
    );

    expect(expired).toBe(1);
    const row = await t.tasks.db
      .selectFrom('assignments')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirst();
    expect(row?.status).toBe('expired');
  });

  it('a release locks the campaign before its claim', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const { id, token } = await claim(task.id);

    const released = await holdingTheCampaign(campaign.id, id, () =>
      t.inject({ method: 'POST', url: `/api/v1/assignments/${id}/release`, token }),
    );

    expect(released.status).toBe(200);
  });

  it("the consumers' lockFirst locks every campaign a batch names, by id, task or assignment, and no other", async () => {
    const [named, byTask, byAssignment, other] = await Promise.all(
      Array.from({ length: 4 }, () => t.fixtures.activeCampaign()),
    );
    const task = await t.fixtures.task(byTask!.id);
    const claimed = await claim((await t.fixtures.task(byAssignment!.id)).id);
    const events = [
      buildEvent('diagnostics.probe.recorded.v1', { probe_id: 'x' }, { subject: 'x' }),
      {
        ...buildEvent('diagnostics.probe.recorded.v1', { probe_id: 'y' }, { subject: 'y' }),
        data: { campaign_id: named!.id.toUpperCase() },
      },
      {
        ...buildEvent('diagnostics.probe.recorded.v1', { probe_id: 'z' }, { subject: 'z' }),
        data: { task_id: task.id, campaign_id: 'not-a-uuid' },
      },
      {
        ...buildEvent('diagnostics.probe.recorded.v1', { probe_id: 'w' }, { subject: 'w' }),
        data: { assignment_id: claimed.id },
      },
    ];

    const lockable = (id: string) =>
      gotLock(() => sql`select id from campaigns where id = ${id} for update nowait`.execute(t.tasks.db));
    const seen = await t.tasks.db.transaction().execute(async (trx) => {
      await lockCampaignsOf(trx, events as never);
      return Promise.all([named, byTask, byAssignment, other].map((campaign) => lockable(campaign!.id)));
    });

    expect(seen).toEqual([false, false, false, true]);
  });
});
