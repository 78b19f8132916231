import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { createLogger } from '@tessera/service-kit';
import { failRowWrites, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';
import { completeEndedCampaigns } from './schedule.ts';

let t: TestTasks;

// The job runs by itself every 100 ms; tests that call it by hand give it a `now` in the future and
// campaigns that end between the real now and that one, so the background runs never touch them.
beforeAll(async () => {
  t = await startTestTasks({ TASKS_SCHEDULE_INTERVAL_MS: 100 }, { background: { expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000);
/** The clock the hand-driven runs use: after every campaign these tests end "in an hour". */
const later = () => inHours(2);

const row = (id: string) =>
  t.tasks.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const taskStatuses = async (campaignId: string) =>
  Object.fromEntries(
    (
      await t.tasks.db
        .selectFrom('tasks')
        .select(['id', 'status'])
        .where('campaign_id', '=', campaignId)
        .execute()
    ).map((task) => [task.id, task.status]),
  );

describe('completeEndedCampaigns', () => {
  it('goes on past a campaign whose closing fails, and closes it at a later run', async () => {
    const failing = await t.fixtures.activeCampaign({ end_at: inHours(1), funded_amount: 5_000 });
    const next = await t.fixtures.activeCampaign({ end_at: inHours(1.5), funded_amount: 5_000 });
    // A fault of ours in the first campaign's closing, injected by the database itself.
    const restore = await failRowWrites(t.tasks.db, {
      table: 'campaigns',
      column: 'id',
      value: failing.id,
      on: 'update',
    });
    try {
      const logger = createLogger({ name: 'schedule-test', level: 'silent', pretty: false });
      expect(await completeEndedCampaigns(t.tasks.db, { now: later(), logger })).toBeGreaterThanOrEqual(1);
      expect((await row(failing.id)).status).toBe('active');
      expect((await row(next.id)).status).toBe('completed');
    } finally {
      await restore();
    }
    await completeEndedCampaigns(t.tasks.db, { now: later() });
    expect((await row(failing.id)).status).toBe('completed');
  });

  it('completes a running campaign past its end: its tasks close and the ledger is told to return the rest', async () => {
    const { id, company_id } = await t.fixtures.activeCampaign({ end_at: inHours(1), funded_amount: 5_000 });
    const open = await t.fixtures.task(id);
    const paused = await t.fixtures.task(id, { status: 'paused' });

    expect(await completeEndedCampaigns(t.tasks.db, { now: later() })).toBeGreaterThanOrEqual(1);

    expect(await row(id)).toMatchObject({ status: 'completed', close_event: 'completed' });
    expect(await taskStatuses(id)).toEqual({ [open.id]: 'completed', [paused.id]: 'completed' });
    const closed = await t.written('tasks.task.closed.v1', 'campaign_id', id);
    const reason = { campaign_id: id, company_id, reason_code: 'campaign_completed' };
    expect(closed.map((e) => e.data)).toEqual(
      expect.arrayContaining([
        { task_id: open.id, ...reason },
        { task_id: paused.id, ...reason },
      ]),
    );
    expect(closed).toHaveLength(2);
    expect((await t.written('tasks.campaign.completed.v1', 'campaign_id', id)).map((e) => e.data)).toEqual([
      { campaign_id: id, company_id },
    ]);

    // Run again: nothing more happens to it.
    expect(await completeEndedCampaigns(t.tasks.db, { now: later() })).toBe(0);
    expect(await t.written('tasks.campaign.completed.v1', 'campaign_id', id)).toHaveLength(1);
    expect(await t.written('tasks.task.closed.v1', 'campaign_id', id)).toHaveLength(2);
  });

  it('completes a paused campaign past its end too, and waits for open claims before announcing it', async () => {
    const { id } = await t.fixtures.activeCampaign({
      end_at: inHours(1),
      status: 'paused',
      pause_reason: 'manual',
      funded_amount: 5_000,
      reserved_amount: 200,
    });
    await completeEndedCampaigns(t.tasks.db, { now: later() });
    expect(await row(id)).toMatchObject({
      status: 'completed',
      pause_reason: null,
      close_event: 'completed',
    });
    expect(await t.written('tasks.campaign.completed.v1', 'campaign_id', id)).toHaveLength(0);
  });

  it('leaves campaigns that have not ended, and drafts or funding campaigns that have', async () => {
    const running = await t.fixtures.activeCampaign({ end_at: inHours(1) });
    const endless = await t.fixtures.activeCampaign({ end_at: null });
    const drafted = await t.fixtures.activeCampaign({
      end_at: hoursAgo(1),
      status: 'draft',
      funded_amount: 0,
    });
    const funding = await t.fixtures.activeCampaign({
      end_at: hoursAgo(1),
      status: 'funding',
      funded_amount: 0,
    });
    await completeEndedCampaigns(t.tasks.db, { now: new Date() });
    expect((await row(running.id)).status).toBe('active');
    expect((await row(endless.id)).status).toBe('active');
    expect((await row(drafted.id)).status).toBe('draft');
    expect((await row(funding.id)).status).toBe('funding');

    // Once its end has come, the running one completes as well.
    await completeEndedCampaigns(t.tasks.db, { now: later() });
    expect((await row(running.id)).status).toBe('completed');
    expect((await row(endless.id)).status).toBe('active');
  });

  it('waits for the answer to a pending top-up before completing', async () => {
    const manager = randomUUID();
    const { id, company_id } = await t.fixtures.activeCampaign({ end_at: inHours(1) });
    await t.fixtures.member(company_id, manager, 'manager');
    const topUp = await t.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${id}/top-up`,
      token: await t.token({ sub: manager, role: 'company' }),
      body: { amount: { amount: 1_000, currency: 'USD' } },
    });
    expect(topUp.status).toBe(202);

    await completeEndedCampaigns(t.tasks.db, { now: later() });
    expect((await row(id)).status).toBe('active');

    const [request] = await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id);
    await t.deliver(
      consumerNames.ledger,
      buildEvent(
        'ledger.campaign.funded.v1',
        {
          campaign_id: id,
          company_id,
          budget: { amount: 1_000, currency: 'USD' },
          fee: { amount: 100, currency: 'USD' },
          transfer_ids: [randomUUID()],
        },
        { subject: id, causationId: request!.id },
      ),
    );
    await completeEndedCampaigns(t.tasks.db, { now: later() });
    expect(await row(id)).toMatchObject({ status: 'completed', funded_amount: 1_001_000 });
    expect(await t.written('tasks.campaign.completed.v1', 'campaign_id', id)).toHaveLength(1);
  });
});

describe('the schedule job', () => {
  it('completes ended campaigns by itself', async () => {
    const { id } = await t.fixtures.activeCampaign({ end_at: hoursAgo(1) });
    const task = await t.fixtures.task(id);
    await waitFor(async () => (await row(id)).status === 'completed', { what: 'the campaign to complete' });
    const closed = await t.awaitPublished('tasks.task.closed.v1', (e) => e.data.task_id === task.id);
    expect(closed[0]!.data.reason_code).toBe('campaign_completed');
    await t.awaitPublished('tasks.campaign.completed.v1', (e) => e.data.campaign_id === id);
  });
});
