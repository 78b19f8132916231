import { CompiledQuery, sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { taskPublishedData } from '@tessera/contracts/testing';
import { expectAdminsOnly, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalOf, startTestEngagement, type TestEngagement } from '../testing/harness.ts';
import { campaignKnown, companyOfCampaign, taskKnown, taskTypeOf } from './repository.ts';
import { CATALOG_WAITS_PATH } from './routes.ts';

const CATALOG_WAIT_AGE_GAUGE = 'tessera_engagement_catalog_wait_oldest_seconds';
import { dueWaitsQuery, waitingCount } from './waits.ts';

let t: TestEngagement;
let admin: string;
beforeAll(async () => {
  t = await startTestEngagement({
    ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: 'true',
    ENGAGEMENT_WEBHOOK_INTERVAL_MS: 50,
    // Only the instance that handles the task's event looks at once; this one is that instance.
    ENGAGEMENT_CATALOG_WAITS_INTERVAL_MS: 3_600_000,
  });
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});
afterAll(() => t?.stop());

describe('the catalog', () => {
  it('reads a task type and a campaign company once, and looks again for what it has not seen', async () => {
    const db = t.service.db;
    const [task, campaign, company] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await taskTypeOf(db, task)).toBeUndefined();
    expect(await companyOfCampaign(db, campaign)).toBeUndefined();
    await taskKnown(db, task, campaign, 'text');
    await campaignKnown(db, campaign, company);
    expect(await taskTypeOf(db, task)).toBe('text');
    expect(await companyOfCampaign(db, campaign)).toBe(company);
    // Never changed once known: what was found is not read again.
    await db.deleteFrom('catalog_tasks').where('task_id', '=', task).execute();
    await db.deleteFrom('catalog_campaigns').where('campaign_id', '=', campaign).execute();
    expect(await taskTypeOf(db, task)).toBe('text');
    expect(await companyOfCampaign(db, campaign)).toBe(company);
  });
});

describe('events that arrive before their task or campaign', () => {
  it('wait for it: the webhook is delivered once and the per-type badge and mission count the approval', async () => {
    const [taskId, campaignId, companyId] = [randomUUID(), randomUUID(), randomUUID()];
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['tessera-delivery']));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as AddressInfo).port;
      const hook = await t.inject({
        method: 'POST',
        url: `/api/v1/companies/${companyId}/webhooks`,
        token: admin,
        body: { url: `http://127.0.0.1:${port}/hook`, events: ['submission.approved'] },
      });
      expect(hook.status, JSON.stringify(hook.body)).toBe(201);
      const badge = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/badges',
        token: admin,
        body: {
          code: `voice_${Date.now().toString(36)}`,
          name: 'First voice',
          xp_bonus: 0,
          criteria: { type: 'tasks_completed', threshold: 1, task_type: 'audio' },
        },
      });
      expect(badge.status, JSON.stringify(badge.body)).toBe(201);
      const mission = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/missions',
        token: admin,
        body: {
          code: `audio_${Date.now().toString(36)}`,
          title: 'One audio task today',
          xp_reward: 0,
          criteria: { type: 'tasks_completed', count: 1, task_type: 'audio' },
        },
      });
      expect(mission.status, JSON.stringify(mission.body)).toBe(201);
      const user = await t.contributor();

      // The approval first: tasks has not told engagement of the task or its campaign yet.
      const approval = await t.emit('submissions.submission.approved.v1', {
        submission_id: randomUUID(),
        task_id: taskId,
        campaign_id: campaignId,
        contributor_id: user.id,
        reward: { amount: 10, currency: 'USD' },
        xp_reward: 5,
      });
      const deliveries = () =>
        t.service.db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('webhook_id', '=', hook.body.webhook.id)
          .execute();
      expect(await deliveries()).toHaveLength(0);

      // Then the task (and with it the campaign's company).
      await t.emit('tasks.task.published.v1', taskPublishedData('audio', { taskId, campaignId, companyId }));
      await waitFor(async () => received.length >= 1, { what: 'the webhook delivery' });
      await waitFor(
        async () =>
          (await t.service.db
            .selectFrom('user_badges')
            .select('badge_id')
            .where('user_id', '=', user.id)
            .where('badge_id', '=', badge.body.badge.id)
            .executeTakeFirst()) !== undefined,
        { what: 'the per-type badge' },
      );
      await waitFor(
        async () =>
          (
            await t.service.db
              .selectFrom('mission_progress')
              .select('progress')
              .where('mission_id', '=', mission.body.mission.id)
              .where('user_id', '=', user.id)
              .executeTakeFirst()
          )?.progress === 1,
        { what: 'the per-type mission' },
      );
      // The approval redelivered and the task announced again change nothing: delivered once.
      await t.handle(approval);
      await t.emit('tasks.task.updated.v1', taskPublishedData('audio', { taskId, campaignId, companyId }));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await deliveries()).toHaveLength(1);
      expect(received).toHaveLength(1);
      expect(await waitingCount(t.service.db)).toBe(0);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
  it("forgets an erased contributor's waiting approval, its webhook wait included", async () => {
    const user = await t.contributor();
    const waitsOf = () =>
      t.service.db
        .selectFrom('catalog_waits')
        .select(['capability', 'user_id'])
        .where(sql<boolean>`event::jsonb -> 'data' ->> 'contributor_id' = ${user.id}`)
        .execute();
    await t.emit('submissions.submission.approved.v1', {
      submission_id: randomUUID(),
      task_id: randomUUID(),
      campaign_id: randomUUID(),
      contributor_id: user.id,
      reward: { amount: 10, currency: 'USD' },
      xp_reward: 5,
    });
    const waiting = await waitsOf();
    expect(waiting.map((w) => w.capability).sort()).toContain('webhooks');
    expect(waiting.every((w) => w.user_id === user.id)).toBe(true);
    await t.emit('identity.user.erased.v1', { user_id: user.id });
    expect(await waitsOf()).toEqual([]);
  });
});

interface ListedWait {
  event_id: string;
  event_type: string;
  capability: string;
  task_id: string | null;
  campaign_id: string | null;
  received_at: string;
}

describe("the operators' list of waiting events", () => {
  const HOUR = 3_600_000;

  interface Listing {
    catalog_waits: ListedWait[];
    next_cursor: string | null;
  }

  async function list(query = ''): Promise<Listing> {
    const response = await t.inject({ url: `${CATALOG_WAITS_PATH}${query}`, token: admin });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as Listing;
  }

  /** A gauge of the service's, as Prometheus would scrape it. */
  async function gauge(name: string): Promise<number> {
    const text = (await t.service.app.inject({ url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return Number(line?.split(' ').at(-1));
  }

  it('lists each wait oldest first, with what it waits for and no user id, page by page; older_than_hours keeps the older; an announced task takes its waits off', async () => {
    const user = await t.contributor();
    // Three approvals before tasks announced their tasks and campaigns: each waits three times
    // (badges and missions for the task's type, webhooks for the campaign's company).
    const approve = async () => {
      const [taskId, campaignId, companyId] = [randomUUID(), randomUUID(), randomUUID()];
      const event = await t.emit(
        'submissions.submission.approved.v1',
        approvalOf(user.id, { task_id: taskId, campaign_id: campaignId }),
      );
      return { id: event.id, taskId, campaignId, companyId };
    };
    const oldest = await approve();
    const older = await approve();
    const newest = await approve();
    const approvals = [oldest, older, newest];
    // The first received 50 hours ago, the second 30 (each event's three waits at the same instant,
    // so that only the capability orders them), the third just now.
    const now = Date.now();
    for (const [approval, hours] of [
      [oldest, 50],
      [older, 30],
    ] as const) {
      await t.service.db
        .updateTable('catalog_waits')
        .set({ received_at: new Date(now - hours * HOUR) })
        .where('event_id', '=', approval.id)
        .execute();
    }
    const ours = (waits: ListedWait[]) => waits.filter((w) => approvals.some((a) => a.id === w.event_id));
    const capabilities = ['badges', 'missions', 'webhooks'];

    const whole = await list('?limit=200');
    expect(whole.next_cursor).toBeNull();
    const times = whole.catalog_waits.map((w) => Date.parse(w.received_at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(ours(whole.catalog_waits).map((w) => `${w.event_id} ${w.capability}`)).toEqual(
      approvals.flatMap((a) => capabilities.map((c) => `${a.id} ${c}`)),
    );
    const [badges, missions, hooks] = ours(whole.catalog_waits);
    const fields = {
      event_id: oldest.id,
      event_type: 'submissions.submission.approved.v1',
      received_at: new Date(now - 50 * HOUR).toISOString(),
    };
    expect(badges).toEqual({ ...fields, capability: 'badges', task_id: oldest.taskId, campaign_id: null });
    expect(missions).toEqual({
      ...fields,
      capability: 'missions',
      task_id: oldest.taskId,
      campaign_id: null,
    });
    expect(hooks).toEqual({
      ...fields,
      capability: 'webhooks',
      task_id: null,
      campaign_id: oldest.campaignId,
    });
    expect(JSON.stringify(whole)).not.toContain(user.id);

    // Two at a time: every wait once, in the same order, though pages split an event's waits.
    const paged: ListedWait[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.catalog_waits.length).toBeLessThanOrEqual(2);
      paged.push(...page.catalog_waits);
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 100);
    expect(paged).toEqual(whole.catalog_waits);
    expect(pages).toBe(Math.ceil(whole.catalog_waits.length / 2));

    const olderThan = async (hours: number) => {
      const waits = (await list(`?older_than_hours=${hours}&limit=200`)).catalog_waits;
      const asked = Date.now();
      for (const w of waits) expect(Date.parse(w.received_at)).toBeLessThan(asked - hours * HOUR);
      return ours(waits).map((w) => w.event_id);
    };
    expect(await olderThan(40)).toEqual([oldest.id, oldest.id, oldest.id]);
    expect(await olderThan(20)).toEqual([...Array(3).fill(oldest.id), ...Array(3).fill(older.id)]);
    expect(await olderThan(60)).toEqual([]);
    expect(await olderThan(0)).toHaveLength(9);

    const age = await gauge(CATALOG_WAIT_AGE_GAUGE);
    expect(age).toBeGreaterThanOrEqual(50 * 3600);
    expect(age).toBeLessThan(50 * 3600 + 600);

    // Tasks announces the oldest one's task (and with it its campaign): its waits are applied and
    // leave the list; the others still wait, and the oldest wait is now the 30-hour one.
    await t.emit(
      'tasks.task.published.v1',
      taskPublishedData('audio', {
        taskId: oldest.taskId,
        campaignId: oldest.campaignId,
        companyId: oldest.companyId,
      }),
    );
    await waitFor(
      async () => !ours((await list('?limit=200')).catalog_waits).some((w) => w.event_id === oldest.id),
      { what: 'the announced task to take its waits off the list' },
    );
    expect(ours((await list('?limit=200')).catalog_waits).map((w) => w.event_id)).toEqual([
      ...Array(3).fill(older.id),
      ...Array(3).fill(newest.id),
    ]);
    const after = await gauge(CATALOG_WAIT_AGE_GAUGE);
    expect(after).toBeGreaterThanOrEqual(30 * 3600);
    expect(after).toBeLessThan(30 * 3600 + 600);

    // The others go with their contributor's erasure.
    await t.emit('identity.user.erased.v1', { user_id: user.id });
    expect(ours((await list('?limit=200')).catalog_waits)).toEqual([]);
    expect(await waitingCount(t.service.db)).toBe(0);
    expect(await gauge(CATALOG_WAIT_AGE_GAUGE)).toBe(0);
  });

  it('answers admins only, and refuses bad query values with a 400 problem+json', async () => {
    await expectAdminsOnly(t, CATALOG_WAITS_PATH);
    const key = await t.inject({
      url: CATALOG_WAITS_PATH,
      token: t.companyKeyToken(randomUUID(), ['company:read']),
    });
    expect(key.status).toBe(403);

    const forged = (position: unknown) => Buffer.from(JSON.stringify(position)).toString('base64url');
    for (const query of [
      'older_than_hours=abc',
      'older_than_hours=-1',
      'older_than_hours=1.5',
      'older_than_hours=87601',
      'limit=0',
      'limit=201',
      'cursor=not%20a%20cursor',
      `cursor=${forged({ t: Date.now(), e: 'not-a-uuid', c: 'badges' })}`,
      `cursor=${forged({ t: Date.now(), e: randomUUID(), c: 'badges', user_id: randomUUID() })}`,
      `user_id=${randomUUID()}`,
    ]) {
      const response = await t.inject({ url: `${CATALOG_WAITS_PATH}?${query}`, token: admin });
      expect(response.status, query).toBe(400);
      expect(response.headers['content-type'], query).toContain('application/problem+json');
      expect(response.body.code, query).toBe('VALIDATION_FAILED');
    }
  });

  it('drops a wait an operator says will never apply, saying why: off the list and the gauge, never applied, once', async () => {
    const user = await t.contributor();
    const [taskId, campaignId, companyId] = [randomUUID(), randomUUID(), randomUUID()];
    const approval = await t.emit(
      'submissions.submission.approved.v1',
      approvalOf(user.id, { task_id: taskId, campaign_id: campaignId }),
    );
    const waits = async () =>
      (await list('?limit=200')).catalog_waits
        .filter((w) => w.event_id === approval.id)
        .map((w) => w.capability);
    expect(await waits()).toEqual(['badges', 'missions', 'webhooks']);
    const dismiss = (
      capability: string,
      body: unknown = { reason: 'tasks deleted this task before announcing it' },
    ) =>
      t.inject({
        method: 'POST',
        url: `${CATALOG_WAITS_PATH}/${approval.id}/${capability}/dismiss`,
        token: admin,
        body,
      });

    const dropped = await dismiss('badges');
    expect(dropped.status, JSON.stringify(dropped.body)).toBe(200);
    expect(dropped.body.catalog_wait).toMatchObject({
      event_id: approval.id,
      event_type: 'submissions.submission.approved.v1',
      capability: 'badges',
      task_id: taskId,
      campaign_id: null,
      dismiss_reason: 'tasks deleted this task before announcing it',
    });
    expect(JSON.stringify(dropped.body)).not.toContain(user.id);
    expect(await waits()).toEqual(['missions', 'webhooks']);
    const kept = await t.service.db
      .selectFrom('catalog_waits_dismissed')
      .selectAll()
      .where('event_id', '=', approval.id)
      .execute();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({
      capability: 'badges',
      dismiss_reason: 'tasks deleted this task before announcing it',
    });
    expect(JSON.stringify(kept)).not.toContain(user.id);

    // Again: nothing left to drop.
    expect(await dismiss('badges')).toMatchObject({ status: 404, body: { code: 'CATALOG_WAIT_NOT_FOUND' } });
    expect(await dismiss('missions', { reason: 'short' })).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED' },
    });
    expect(await dismiss('missions', { reason: 'tasks deleted this task', user_id: user.id })).toMatchObject({
      status: 400,
    });
    expect(
      await t.inject({
        method: 'POST',
        url: `${CATALOG_WAITS_PATH}/not-a-uuid/badges/dismiss`,
        token: admin,
        body: { reason: 'tasks deleted this task' },
      }),
    ).toMatchObject({ status: 400 });
    const contributor = await t.inject({
      method: 'POST',
      url: `${CATALOG_WAITS_PATH}/${approval.id}/missions/dismiss`,
      token: await t.token({ sub: randomUUID(), role: 'contributor' }),
      body: { reason: 'tasks deleted this task' },
    });
    expect(contributor.status).toBe(403);
    expect(await waits()).toEqual(['missions', 'webhooks']);

    // Tasks announces the task after all: the dropped wait is never applied, the others are.
    await t.emit('tasks.task.published.v1', taskPublishedData('audio', { taskId, campaignId, companyId }));
    await waitFor(async () => (await waits()).length === 0, { what: 'the other waits to be applied' });
    expect(await dismiss('missions')).toMatchObject({
      status: 404,
      body: { code: 'CATALOG_WAIT_NOT_FOUND' },
    });
    const counted = await t.service.db
      .selectFrom('badge_counted_causes')
      .select('cause_id')
      .where('user_id', '=', user.id)
      .execute();
    expect(counted).toEqual([]);
    expect(await waitingCount(t.service.db)).toBe(0);
    expect(await gauge(CATALOG_WAIT_AGE_GAUGE)).toBe(0);
  });

  it("walks the waits oldest first by an index, for the job's due waits (migration 0940)", async () => {
    const plan = await t.service.db.transaction().execute(async (trx) => {
      // The table is nearly empty here: without these the planner rightly prefers a scan and a sort.
      await sql`set local enable_seqscan = off`.execute(trx);
      await sql`set local enable_sort = off`.execute(trx);
      const query = dueWaitsQuery(trx, 100).compile();
      const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]),
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index (Only )?Scan using catalog_waits_received on catalog_waits/);
    expect(plan).not.toMatch(/\bSort\b/);
  });
});
