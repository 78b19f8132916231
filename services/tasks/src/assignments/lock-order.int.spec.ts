import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { gotLock, waitFor } from '@tessera/service-kit/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TasksDB } from '../db/schema.ts';
import { lockCampaignsOf } from '../messaging/lock-campaigns.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';
import { expireDueAssignments } from './expiry.ts';
import { accountStatusChanged } from '../eligibility/index.ts';
import { claimTask, makeOpenClaimsDue } from './handle.ts';

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

/*
 * A claim decides on what it read before the reservation locked the campaign and task; whatever
 * commits while it waits for those locks (an edit, a withdrawn invitation, a suspension) is what
 * holds. Each test holds the campaign, starts a claim by a contributor eligible on what it first
 * reads, waits until the claim queues behind the lock, makes them ineligible in the holding
 * transaction and commits: the claim is refused as `decideClaim` would, and holds nothing.
 */
describe('a claim decides eligibility again under the locks', () => {
  async function contributorToken(values: { level?: number } = {}) {
    const { user_id } = await t.fixtures.contributor(values);
    return { id: user_id, token: await t.token({ sub: user_id, role: 'contributor' }) };
  }

  /** Holds the campaign, claims beside it, runs `change` once the claim waits, commits. */
  async function claimWhileChanged(
    campaignId: string,
    taskId: string,
    who: { token: string },
    change: (trx: Trx) => Promise<unknown>,
  ) {
    let response: ReturnType<typeof t.inject> | undefined;
    await t.tasks.db.transaction().execute(async (trx) => {
      await lockRow(trx, 'campaigns', campaignId);
      response = t.inject({ method: 'POST', url: `/api/v1/tasks/${taskId}/claim`, token: who.token });
      response.catch(() => undefined);
      await waitFor(someoneWaits, { timeoutMs: 5_000, what: 'the claim to queue behind the campaign lock' });
      await change(trx);
    });
    return response!;
  }

  async function expectNothingHeld(campaignId: string, taskId: string) {
    const task = await t.tasks.db
      .selectFrom('tasks')
      .select('slots_taken')
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    const campaign = await t.tasks.db
      .selectFrom('campaigns')
      .select(['reserved_amount', 'quota_taken'])
      .where('id', '=', campaignId)
      .executeTakeFirstOrThrow();
    const claims = await t.tasks.db
      .selectFrom('assignments')
      .select('id')
      .where('task_id', '=', taskId)
      .execute();
    expect({
      slots: task.slots_taken,
      reserved: Number(campaign.reserved_amount),
      quota: campaign.quota_taken,
      claims,
    }).toEqual({ slots: 0, reserved: 0, quota: 0, claims: [] });
  }

  it('refuses (LEVEL_TOO_LOW) a claim whose task raised min_level while it waited, and holds nothing', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id, { min_level: 1 });
    const me = await contributorToken({ level: 1 });

    const response = await claimWhileChanged(campaign.id, task.id, me, (trx) =>
      trx.updateTable('tasks').set({ min_level: 3 }).where('id', '=', task.id).execute(),
    );

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'TASK_NOT_ELIGIBLE', reasons: ['LEVEL_TOO_LOW'] });
    await expectNothingHeld(campaign.id, task.id);
  });

  it('refuses (NOT_INVITED) a claim whose campaign became private while it waited', async () => {
    const campaign = await t.fixtures.activeCampaign({ is_private: false });
    const task = await t.fixtures.task(campaign.id);
    const me = await contributorToken();

    const response = await claimWhileChanged(campaign.id, task.id, me, (trx) =>
      trx.updateTable('campaigns').set({ is_private: true }).where('id', '=', campaign.id).execute(),
    );

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'TASK_NOT_ELIGIBLE', reasons: ['NOT_INVITED'] });
    await expectNothingHeld(campaign.id, task.id);
  });

  it('refuses (NOT_INVITED) a claim whose invitation was withdrawn while it waited', async () => {
    const campaign = await t.fixtures.activeCampaign({ is_private: true });
    const task = await t.fixtures.task(campaign.id);
    const me = await contributorToken();
    await t.tasks.db
      .insertInto('campaign_invitations')
      .values({ campaign_id: campaign.id, user_id: me.id, invited_by: randomUUID(), created_at: new Date() })
      .execute();

    const response = await claimWhileChanged(campaign.id, task.id, me, (trx) =>
      trx.deleteFrom('campaign_invitations').where('campaign_id', '=', campaign.id).execute(),
    );

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'TASK_NOT_ELIGIBLE', reasons: ['NOT_INVITED'] });
    await expectNothingHeld(campaign.id, task.id);
  });

  it('refuses (ACCOUNT_NOT_ACTIVE) a claim whose contributor was suspended while it waited', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const me = await contributorToken();

    const response = await claimWhileChanged(campaign.id, task.id, me, (trx) =>
      trx.updateTable('contributors').set({ status: 'suspended' }).where('user_id', '=', me.id).execute(),
    );

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'TASK_NOT_ELIGIBLE', reasons: ['ACCOUNT_NOT_ACTIVE'] });
    await expectNothingHeld(campaign.id, task.id);
  });

  it('waits for a suspension not yet committed when it reads the standing again, and is refused', async () => {
    // The suspension (the identity consumer's: status, then the open claims made due) holds the
    // contributor's row; a claim that did not wait for it would be made after the suspension's
    // claims were made due, and stay open.
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const me = await contributorToken();

    let settled = false;
    let response: ReturnType<typeof t.inject> | undefined;
    await t.tasks.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('contributors')
        .set({ status: 'suspended' })
        .where('user_id', '=', me.id)
        .execute();
      await makeOpenClaimsDue(trx, me.id, new Date());
      response = t.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim`, token: me.token });
      response.then(() => (settled = true)).catch(() => undefined);
      await waitFor(async () => settled || (await someoneWaits()), {
        timeoutMs: 5_000,
        what: 'the claim to finish or wait',
      });
    });

    const answered = await response!;
    expect(answered.status).toBe(403);
    expect(answered.body).toMatchObject({ code: 'TASK_NOT_ELIGIBLE', reasons: ['ACCOUNT_NOT_ACTIVE'] });
    await expectNothingHeld(campaign.id, task.id);
  });

  /** What the identity consumer does with a suspension (messaging/identity.ts), in `trx`. */
  async function suspend(trx: Trx, userId: string, at: Date) {
    if (await accountStatusChanged(trx, userId, at.toISOString(), 'suspended'))
      await makeOpenClaimsDue(trx, userId, at);
  }

  it('waits for a suspension that creates the contributor’s row (the read model had none), and is refused', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const userId = randomUUID(); // the read model has not heard of them
    const token = await t.token({ sub: userId, role: 'contributor' });

    let settled = false;
    let response: ReturnType<typeof t.inject> | undefined;
    await t.tasks.db.transaction().execute(async (trx) => {
      await suspend(trx, userId, new Date());
      response = t.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim`, token });
      response.then(() => (settled = true)).catch(() => undefined);
      await waitFor(async () => settled || (await someoneWaits()), {
        timeoutMs: 5_000,
        what: 'the claim to finish or wait',
      });
    });

    const answered = await response!;
    expect(answered.status).toBe(403);
    expect(answered.body).toMatchObject({ code: 'TASK_NOT_ELIGIBLE', reasons: ['ACCOUNT_NOT_ACTIVE'] });
    await expectNothingHeld(campaign.id, task.id);
  });

  it('makes a suspension that creates the contributor’s row wait for a claim in flight, and makes that claim due', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const userId = randomUUID(); // the read model has not heard of them
    const suspendedAt = new Date();

    let suspended: Promise<void> | undefined;
    let settled = false;
    const claimed = await t.tasks.db.transaction().execute(async (trx) => {
      const assignment = await claimTask(trx, { taskId: task.id, contributorId: userId, now: new Date() });
      suspended = t.tasks.db.transaction().execute((other) => suspend(other, userId, suspendedAt));
      suspended.then(() => (settled = true)).catch(() => undefined);
      await waitFor(async () => settled || (await someoneWaits()), {
        timeoutMs: 5_000,
        what: 'the suspension to finish or wait',
      });
      return assignment;
    });
    await suspended;

    const row = await t.tasks.db
      .selectFrom('assignments')
      .select(['status', 'expires_at'])
      .where('id', '=', claimed.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('active');
    expect(row.expires_at.getTime()).toBeLessThanOrEqual(suspendedAt.getTime());
  });

  it('an invitation is withdrawn under the campaign lock', async () => {
    const campaign = await t.fixtures.activeCampaign({ is_private: true });
    const manager = randomUUID();
    await t.fixtures.member(campaign.company_id, manager);
    const invited = randomUUID();
    await t.tasks.db
      .insertInto('campaign_invitations')
      .values({ campaign_id: campaign.id, user_id: invited, invited_by: manager, created_at: new Date() })
      .execute();
    const token = await t.token({ sub: manager, role: 'company' });

    let withdrawn: ReturnType<typeof t.inject> | undefined;
    await t.tasks.db.transaction().execute(async (trx) => {
      await lockRow(trx, 'campaigns', campaign.id);
      withdrawn = t.inject({
        method: 'DELETE',
        url: `/api/v1/campaigns/${campaign.id}/invitations/${invited}`,
        token,
      });
      withdrawn.catch(() => undefined);
      await waitFor(someoneWaits, {
        timeoutMs: 5_000,
        what: 'the withdrawal to queue behind the campaign lock',
      });
    });

    expect((await withdrawn!).status).toBe(204);
  });
});
