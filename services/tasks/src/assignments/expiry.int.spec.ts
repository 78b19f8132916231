import { randomUUID } from 'node:crypto';
import type { EventType } from '@tessera/contracts';
import { createLogger, PARK_AFTER_FAILURES, startPeriodicJob } from '@tessera/service-kit';
import { failRowWrites, foreignEvent, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasksWorkers } from '../service.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';
import { expireDueAssignments } from './expiry.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

interface Claim {
  id: string;
  contributor_id: string;
  token: string;
}

async function claim(
  taskId: string,
  contributorId: string = randomUUID(),
): Promise<Claim & { status: number }> {
  const token = await t.token({ sub: contributorId, role: 'contributor' });
  const response = await t.inject({ method: 'POST', url: `/api/v1/tasks/${taskId}/claim`, token });
  return { id: response.body.assignment?.id, contributor_id: contributorId, token, status: response.status };
}

/** Moves a claim's expiry into the past, as if its time had run out. */
async function runOut(assignmentId: string, secondsAgo = 1): Promise<void> {
  await t.tasks.db
    .updateTable('assignments')
    .set({ expires_at: new Date(Date.now() - secondsAgo * 1000) })
    .where('id', '=', assignmentId)
    .execute();
}

const assignmentRow = (id: string) =>
  t.tasks.db.selectFrom('assignments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const taskRow = (id: string) =>
  t.tasks.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const campaignRow = (id: string) =>
  t.tasks.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const writtenCount = async (type: EventType, field: string, value: string) =>
  (await t.written(type, field, value)).length;

describe('expiring claims', () => {
  it('goes on past a campaign whose claims fail to expire, and expires them at a later run', async () => {
    const campaigns = [await t.fixtures.activeCampaign(), await t.fixtures.activeCampaign()];
    const claims: Claim[] = [];
    for (const campaign of campaigns) {
      const task = await t.fixtures.task(campaign.id, { claim_ttl_seconds: 3600, max_submissions: 1 });
      const mine = await claim(task.id);
      expect(mine.status).toBe(201);
      claims.push(mine);
    }
    // The first campaign's claim is due first, so it comes first in the run.
    await runOut(claims[0]!.id, 20);
    await runOut(claims[1]!.id, 10);
    // A fault of ours in ending the first campaign's claims, injected by the database itself.
    const restore = await failRowWrites(t.tasks.db, {
      table: 'assignments',
      column: 'id',
      value: claims[0]!.id,
      on: 'update',
    });
    const logger = createLogger({ name: 'expiry-test', level: 'silent', pretty: false });
    try {
      expect(await expireDueAssignments(t.tasks.db, { now: new Date(), logger })).toBeGreaterThanOrEqual(1);
      expect((await assignmentRow(claims[0]!.id)).status).toBe('active');
      expect((await assignmentRow(claims[1]!.id)).status).toBe('expired');
    } finally {
      await restore();
    }
    await expireDueAssignments(t.tasks.db, { now: new Date(), logger });
    expect((await assignmentRow(claims[0]!.id)).status).toBe('expired');
  });

  it('goes on past a claim that keeps failing to expire: the others of its campaign expire, and it alone is parked', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id, { claim_ttl_seconds: 3600, max_submissions: 10 });
    const claims: Claim[] = [];
    for (let i = 0; i < 3; i++) {
      const mine = await claim(task.id);
      expect(mine.status).toBe(201);
      claims.push(mine);
    }
    // The failing claim is the campaign's oldest due one.
    await runOut(claims[0]!.id, 30);
    await runOut(claims[1]!.id, 20);
    await runOut(claims[2]!.id, 10);
    const restore = await failRowWrites(t.tasks.db, {
      table: 'assignments',
      column: 'id',
      value: claims[0]!.id,
      on: 'update',
    });
    const logger = createLogger({ name: 'expiry-test', level: 'silent', pretty: false });
    const job = tasksWorkers.assignmentExpiry;
    const counted = { job, metrics: { itemFailed: () => undefined, itemParked: () => undefined } };
    try {
      expect(await expireDueAssignments(t.tasks.db, { now: new Date(), logger, counted })).toBe(2);
      expect((await assignmentRow(claims[0]!.id)).status).toBe('active');
      expect((await assignmentRow(claims[1]!.id)).status).toBe('expired');
      expect((await assignmentRow(claims[2]!.id)).status).toBe('expired');
      expect(Number((await campaignRow(campaign.id)).reserved_amount)).toBe(100);

      // It keeps failing until it is parked, by its own id; a claim of its campaign due later expires.
      for (let run = 0; run < PARK_AFTER_FAILURES; run++) {
        await expireDueAssignments(t.tasks.db, { now: new Date(), logger, counted });
      }
      const parked = await t.tasks.db
        .selectFrom('job_item_failures')
        .select(['item', 'parked_at'])
        .where('job', '=', job)
        .where('parked_at', 'is not', null)
        .execute();
      expect(parked.map((p) => p.item)).toContain(claims[0]!.id);
      expect(parked.map((p) => p.item)).not.toContain(campaign.id);
      const later = await claim(task.id);
      await runOut(later.id);
      expect(await expireDueAssignments(t.tasks.db, { now: new Date(), logger, counted })).toBe(1);
      expect((await assignmentRow(later.id)).status).toBe('expired');
    } finally {
      await restore();
    }
    // Mended, an operator retries it (parked-items routes): it expires at the next run.
    await t.tasks.db.deleteFrom('job_item_failures').where('job', '=', job).execute();
    expect(await expireDueAssignments(t.tasks.db, { now: new Date(), logger, counted })).toBe(1);
    expect((await assignmentRow(claims[0]!.id)).status).toBe('expired');
  });

  it("frees a suspended contributor's open claims at once, saying why", async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id, { claim_ttl_seconds: 3600, max_submissions: 1 });
    const { user_id } = await t.fixtures.contributor();
    const mine = await claim(task.id, user_id);
    expect(mine.status).toBe(201);
    // Not due yet: the job leaves it alone.
    expect(await expireDueAssignments(t.tasks.db, { now: new Date() })).toBe(0);

    await t.deliver(
      'tasks-identity',
      foreignEvent('identity.user.suspended.v1', { user_id, reason_code: 'fraud' }, user_id),
    );
    expect(await expireDueAssignments(t.tasks.db, { now: new Date() })).toBe(1);

    expect((await assignmentRow(mine.id)).status).toBe('expired');
    expect((await taskRow(task.id)).slots_taken).toBe(0);
    expect(Number((await campaignRow(campaign.id)).reserved_amount)).toBe(0);
    const [expired] = await t.awaitPublished(
      'tasks.assignment.expired.v1',
      (e) => e.data.assignment_id === mine.id,
    );
    expect(expired?.data.reason_code).toBe('account_not_active');
    // Someone else may take the slot now.
    expect((await claim(task.id)).status).toBe(201);
  });

  it('expires a claim past its time: slot and budget freed, announced, and the task claimable again', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id, { claim_ttl_seconds: 60, max_submissions: 1 });
    const mine = await claim(task.id);
    expect(mine.status).toBe(201);
    expect((await claim(task.id)).status).toBe(409);
    await runOut(mine.id);

    expect(await expireDueAssignments(t.tasks.db, { now: new Date() })).toBe(1);

    const row = await assignmentRow(mine.id);
    expect(row.status).toBe('expired');
    expect(row.ended_at).toBeInstanceOf(Date);
    expect(row.settled_at).toBeInstanceOf(Date);
    expect((await taskRow(task.id)).slots_taken).toBe(0);
    const money = await campaignRow(campaign.id);
    expect(Number(money.reserved_amount)).toBe(0);
    expect(money.quota_taken).toBe(0);
    const [expired] = await t.awaitPublished(
      'tasks.assignment.expired.v1',
      (e) => e.data.assignment_id === mine.id,
    );
    expect(expired?.data).toEqual({
      assignment_id: mine.id,
      task_id: task.id,
      campaign_id: campaign.id,
      contributor_id: mine.contributor_id,
      reason_code: 'timeout',
    });

    // The same contributor may claim it again.
    expect((await claim(task.id, mine.contributor_id)).status).toBe(201);
    // Nothing is expired twice.
    expect(await expireDueAssignments(t.tasks.db, { now: new Date() })).toBe(0);
  });

  it('leaves claims that still have time, and those already released or submitted', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const running = await claim(task.id);
    const released = await claim(task.id);
    await t.inject({
      method: 'POST',
      url: `/api/v1/assignments/${released.id}/release`,
      token: released.token,
    });
    await runOut(released.id);
    const submitted = await claim(task.id);
    await t.tasks.db
      .updateTable('assignments')
      .set({ status: 'submitted', submission_id: randomUUID(), expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', submitted.id)
      .execute();

    expect(await expireDueAssignments(t.tasks.db, { now: new Date() })).toBe(0);

    expect((await assignmentRow(running.id)).status).toBe('active');
    expect((await assignmentRow(released.id)).status).toBe('released');
    expect((await assignmentRow(submitted.id)).status).toBe('submitted');
    expect((await taskRow(task.id)).slots_taken).toBe(2);
  });

  it('expires the oldest first, at most `limit` per run', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const claims = [await claim(task.id), await claim(task.id), await claim(task.id)];
    await runOut(claims[0]!.id, 30);
    await runOut(claims[1]!.id, 10);
    await runOut(claims[2]!.id, 20);

    expect(await expireDueAssignments(t.tasks.db, { now: new Date(), limit: 2 })).toBe(2);
    expect((await assignmentRow(claims[0]!.id)).status).toBe('expired');
    expect((await assignmentRow(claims[2]!.id)).status).toBe('expired');
    expect((await assignmentRow(claims[1]!.id)).status).toBe('active');

    expect(await expireDueAssignments(t.tasks.db, { now: new Date(), limit: 2 })).toBe(1);
    expect((await taskRow(task.id)).slots_taken).toBe(0);
  });

  it('frees each slot once when two instances run at the same time', async () => {
    const campaigns = [await t.fixtures.activeCampaign(), await t.fixtures.activeCampaign()];
    const tasks = [
      await t.fixtures.task(campaigns[0]!.id, { max_submissions: 20 }),
      await t.fixtures.task(campaigns[0]!.id, { max_submissions: 20 }),
      await t.fixtures.task(campaigns[1]!.id, { max_submissions: 20 }),
    ];
    const claims: Claim[] = [];
    for (const task of tasks) {
      for (let i = 0; i < 10; i++) claims.push(await claim(task.id));
    }
    await Promise.all(claims.map((c) => runOut(c.id)));

    const counts = await Promise.all([
      expireDueAssignments(t.tasks.db, { now: new Date() }),
      expireDueAssignments(t.tasks.db, { now: new Date() }),
      expireDueAssignments(t.tasks.db, { now: new Date() }),
    ]);

    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(30);
    for (const task of tasks) expect((await taskRow(task.id)).slots_taken).toBe(0);
    for (const campaign of campaigns) {
      const money = await campaignRow(campaign.id);
      expect(Number(money.reserved_amount)).toBe(0);
      expect(money.quota_taken).toBe(0);
    }
    for (const c of claims)
      expect(await writtenCount('tasks.assignment.expired.v1', 'assignment_id', c.id)).toBe(1);
  });

  it('resumes a campaign that had paused for want of budget once the expiry frees it', async () => {
    const campaign = await t.fixtures.activeCampaign({ funded_amount: 150 });
    const task = await t.fixtures.task(campaign.id, { reward_amount: 100 });
    const mine = await claim(task.id);
    expect(await campaignRow(campaign.id)).toMatchObject({
      status: 'paused',
      pause_reason: 'budget_exhausted',
    });
    await runOut(mine.id);

    await expireDueAssignments(t.tasks.db, { now: new Date() });

    expect(await campaignRow(campaign.id)).toMatchObject({ status: 'active', pause_reason: null });
    await t.awaitPublished('tasks.campaign.resumed.v1', (e) => e.data.campaign_id === campaign.id);
  });

  it('runs by itself every interval', async () => {
    const campaign = await t.fixtures.activeCampaign();
    const task = await t.fixtures.task(campaign.id);
    const mine = await claim(task.id);
    await runOut(mine.id);
    const job = startPeriodicJob({
      name: 'assignment-expiry',
      logger: createLogger({ name: 'expiry-test', level: 'silent', pretty: false }),
      intervalMs: 50,
      work: () => expireDueAssignments(t.tasks.db, { now: new Date() }),
    });
    try {
      await waitFor(async () => (await assignmentRow(mine.id)).status === 'expired', {
        what: 'the claim to expire',
      });
    } finally {
      await job.stop();
    }
    expect((await taskRow(task.id)).slots_taken).toBe(0);
  });
});
