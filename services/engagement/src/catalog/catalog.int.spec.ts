import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { taskPublishedData } from '@tessera/contracts/testing';
import { waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';
import { campaignKnown, companyOfCampaign, taskKnown, taskTypeOf } from './repository.ts';
import { waitingCount } from './waits.ts';

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
