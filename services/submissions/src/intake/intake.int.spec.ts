import { randomUUID } from 'node:crypto';
import { connectBus, instanceSignals } from '@tessera/service-kit';
import { foreignEvent, waitFor } from '@tessera/service-kit/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmissionsDB } from '../db/schema.ts';
import { type ClaimArrivals, claimArrivals } from '../claims/arrivals.ts';
import { consumerNames } from '../messaging/consumers.ts';
import { submissionsWorkers } from '../service.ts';
import { countingReads } from '../testing/counting-reads.ts';
import {
  type ClaimFixture,
  startTestSubmissions,
  taskPublished,
  type TestSubmissions,
} from '../testing/harness.ts';
import { wav } from '../testing/media.ts';
import { submitWork } from './handle.ts';

let t: TestSubmissions;

beforeAll(async () => {
  // Pre-validation off: it would write events of its own while these tests count rows.
  t = await startTestSubmissions({}, { workers: { [submissionsWorkers.prevalidation]: false } });
});

afterAll(async () => {
  await t?.stop();
});

const morning = 'I woke up early, made coffee and read the news before work.';

function submit(claim: Pick<ClaimFixture, 'assignmentId' | 'token'>, payload: unknown, key?: string) {
  return t.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    token: claim.token,
    ...(key ? { key } : {}),
    body: { assignment_id: claim.assignmentId, payload, time_spent_seconds: 95 },
  });
}

async function counts() {
  const { rows } = await sql<{ submissions: number; outbox: number }>`
    select (select count(*)::int from submissions) as submissions, (select count(*)::int from outbox) as outbox`.execute(
    t.service.db,
  );
  return rows[0]!;
}

describe('handing in work', () => {
  it('accepts work under the caller’s open claim, answers 202 and announces it once', async () => {
    const claim = await t.fixtures.claimed('text');
    const response = await submit(claim, { text: `  ${morning}  ` });

    expect(response.status).toBe(202);
    const { submission } = response.body;
    expect(submission).toMatchObject({
      assignment_id: claim.assignmentId,
      task_id: claim.taskId,
      campaign_id: claim.campaignId,
      task_type: 'text',
      status: 'received',
      revision: 1,
      payload: { text: morning },
      reward: { amount: 150, currency: 'USD' },
      xp_reward: 10,
    });
    const [event] = await t.awaitPublished(
      'submissions.submission.received.v1',
      (e) => e.data.submission_id === submission.id,
    );
    expect(event!.data).toEqual({
      submission_id: submission.id,
      assignment_id: claim.assignmentId,
      task_id: claim.taskId,
      campaign_id: claim.campaignId,
      contributor_id: claim.contributorId,
    });
  });

  it('takes the reward the claim fixed, not what the task says now', async () => {
    const task = await t.fixtures.task('validation');
    const claim = await t.fixtures.claim(task, { reward: 99 });
    const response = await submit(claim, { option: 'yes', confidence: 0.8 });
    expect([response.status, response.body.submission.reward]).toEqual([
      202,
      { amount: 99, currency: 'USD' },
    ]);
  });

  it('waits briefly for a claim whose event is still on its way', async () => {
    const task = await t.fixtures.task('rlhf');
    const contributorId = randomUUID();
    const assignmentId = randomUUID();
    const token = await t.token({ sub: contributorId, role: 'contributor' });
    const pending = submit({ assignmentId, token }, { preferred: 'a', ratings: { helpfulness: 6 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.publish(
      foreignEvent('tasks.assignment.claimed.v1', {
        assignment_id: assignmentId,
        task_id: task.taskId,
        campaign_id: task.campaignId,
        company_id: task.companyId,
        contributor_id: contributorId,
        reward: { amount: 150, currency: 'USD' },
        xp_reward: 10,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    expect((await pending).status).toBe(202);
  });

  it('answers a replay with the same Idempotency-Key with the same submission, announced once', async () => {
    const claim = await t.fixtures.claimed('text');
    const key = `k-${randomUUID()}`;
    const first = await submit(claim, { text: morning }, key);
    const again = await submit(claim, { text: morning }, key);
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body.submission.id).toBe(first.body.submission.id);
    const reused = await submit(claim, { text: `${morning} Then I left.` }, key);
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    await t.awaitPublished(
      'submissions.submission.received.v1',
      (e) => e.data.assignment_id === claim.assignmentId,
    );
    const events = (await t.published('submissions.submission.received.v1')).filter(
      (e) => e.data.assignment_id === claim.assignmentId,
    );
    expect(events).toHaveLength(1);
  });

  it('takes exactly one of many hand-ins racing under one claim', async () => {
    const claim = await t.fixtures.claimed('validation');
    const responses = await Promise.all(Array.from({ length: 8 }, () => submit(claim, { option: 'no' })));
    const statuses = responses.map((r) => (r.status === 202 ? 202 : `${r.status} ${r.body.code}`)).sort();
    expect(statuses).toEqual([202, ...Array(7).fill('409 ALREADY_SUBMITTED')]);
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from submissions where assignment_id = ${claim.assignmentId}`.execute(
      t.service.db,
    );
    expect(rows[0]!.n).toBe(1);
  });
});

describe('a hand-in ahead of its claim', () => {
  const handInAhead = (
    db: Kysely<SubmissionsDB>,
    assignmentId: string,
    contributorId: string,
    arrivals: ClaimArrivals = t.service.resources.claimArrivals,
  ) =>
    submitWork(
      {
        db,
        clock: t.service.clock,
        claimWaitMs: 5_000,
        arrivals,
        // No look of its own for 4 s: what it reads is what the wake-ups made it read, however slow
        // the consumer is to store the claim on a busy machine.
        pausesMs: { first: 4_000, max: 4_000 },
      },
      { contributorId, assignmentId, payload: { text: morning }, timeSpentSeconds: 95 },
    );
  const claimed = (assignmentId: string, contributorId: string, task: { taskId: string }) =>
    foreignEvent('tasks.assignment.claimed.v1', {
      assignment_id: assignmentId,
      task_id: task.taskId,
      campaign_id: randomUUID(),
      company_id: randomUUID(),
      contributor_id: contributorId,
      reward: { amount: 150, currency: 'USD' },
      xp_reward: 10,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });

  it('is woken once the claim is stored, without looking for it blindly in between', async () => {
    const task = await t.fixtures.task('text');
    const [assignmentId, contributorId] = [randomUUID(), randomUUID()];
    const { db, reads } = countingReads(t.service.db);
    const pending = handInAhead(db, assignmentId, contributorId);
    await waitFor(async () => reads('claims') > 0, { intervalMs: 1, what: 'the first look' });
    // Past a blind poll's first steps (25 ms, then 50).
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.publish(claimed(assignmentId, contributorId, task));

    expect((await pending).assignment_id).toBe(assignmentId);
    // The look before the claim, the one it woke, the hand-in's own (each reads the claim with its
    // task in one statement): no look in between.
    expect([reads('claims'), reads('task_views')]).toEqual([3, 3]);
    expect(t.service.resources.claimArrivals.waiting()).toBe(0);
  });

  it('is woken by a claim another instance stored', async () => {
    // A second instance of submissions: its own NATS connection, its own arrivals, no consumer.
    const { config } = t.service;
    const bus = await connectBus({ url: config.NATS_URL, name: 'submissions-2', prefix: config.NATS_PREFIX });
    const elsewhere = claimArrivals(instanceSignals(bus, 'submissions'));
    try {
      await bus.nc.flush();
      const task = await t.fixtures.task('text');
      const [assignmentId, contributorId] = [randomUUID(), randomUUID()];
      const { db, reads } = countingReads(t.service.db);
      const started = Date.now();
      const pending = handInAhead(db, assignmentId, contributorId, elsewhere);
      await waitFor(async () => reads('claims') > 0, { intervalMs: 1, what: 'the first look' });
      // This instance's consumer stores the claim; the hand-in waits on the other.
      await t.publish(claimed(assignmentId, contributorId, task));

      expect((await pending).assignment_id).toBe(assignmentId);
      // Woken, not found by its own look: that would have come after 4 s.
      expect(Date.now() - started).toBeLessThan(3_500);
      expect([reads('claims'), reads('task_views')]).toEqual([3, 3]);
      expect(elsewhere.waiting()).toBe(0);
    } finally {
      elsewhere.close();
      await bus.close();
    }
  });

  it('is woken again by a task that comes after its claim', async () => {
    // Announced only once the claim is stored.
    const task = taskPublished('text');
    const [assignmentId, contributorId] = [randomUUID(), randomUUID()];
    const { db, reads } = countingReads(t.service.db);
    const pending = handInAhead(db, assignmentId, contributorId);
    await waitFor(async () => reads('claims') > 0, { intervalMs: 1, what: 'the first look' });
    await t.publish(claimed(assignmentId, contributorId, task));
    // Woken by the claim, it found no task, listened for the task and looked once more.
    await waitFor(async () => reads('task_views') >= 3, { intervalMs: 1, what: 'the claim found' });
    // Longer than a blind poll's step there (100 ms).
    await new Promise((resolve) => setTimeout(resolve, 150));
    await t.publish(task.event);

    expect((await pending).task_id).toBe(task.taskId);
    // Four looks (no claim; the claim without its task; the same, listening for the task; woken by
    // the task), then the hand-in's own.
    expect([reads('claims'), reads('task_views')]).toEqual([5, 5]);
    expect(t.service.resources.claimArrivals.waiting()).toBe(0);
  });
});

describe('refusals, each with its own code, and nothing written', () => {
  it.each([
    ['an unknown claim', 'unknown', 409, 'ASSIGNMENT_UNKNOWN'],
    ['somebody else’s claim', 'other', 404, 'ASSIGNMENT_NOT_FOUND'],
    ['a released claim', 'released', 409, 'ASSIGNMENT_RELEASED'],
    ['an expired claim', 'expired', 409, 'ASSIGNMENT_EXPIRED'],
    ['a claim already handed in', 'twice', 409, 'ALREADY_SUBMITTED'],
    ['a payload of the wrong shape', 'shape', 400, 'PAYLOAD_INVALID'],
    ['a text outside the task’s bounds', 'short', 400, 'TEXT_LENGTH_OUT_OF_RANGE'],
    ['an option the task does not offer', 'option', 400, 'OPTION_NOT_OFFERED'],
    ['a rating of a criterion the task does not rate', 'criterion', 400, 'CRITERION_UNKNOWN'],
    ['a media id nobody uploaded', 'media', 422, 'MEDIA_NOT_FOUND'],
  ])('refuses %s', async (_, scenario, status, code) => {
    let claim: ClaimFixture;
    let payload: unknown = { text: morning };
    switch (scenario) {
      case 'unknown':
        claim = { ...(await t.fixtures.claimed('text')), assignmentId: randomUUID() };
        break;
      case 'other': {
        const mine = await t.fixtures.claimed('text');
        claim = { ...mine, token: await t.token({ sub: randomUUID(), role: 'contributor' }) };
        break;
      }
      case 'released':
      case 'expired':
        claim = await t.fixtures.claimed('text');
        if (scenario === 'released') {
          await t.deliver(
            consumerNames.tasks,
            foreignEvent('tasks.assignment.released.v1', {
              assignment_id: claim.assignmentId,
              task_id: claim.taskId,
              campaign_id: claim.campaignId,
              contributor_id: claim.contributorId,
            }),
          );
        } else {
          claim = await t.fixtures.claim(await t.fixtures.task('text'), {
            expiresAt: new Date(Date.now() - 1000),
          });
        }
        break;
      case 'twice':
        claim = await t.fixtures.claimed('text');
        expect((await submit(claim, payload)).status).toBe(202);
        break;
      case 'shape':
        claim = await t.fixtures.claimed('text');
        payload = { option: 'yes' };
        break;
      case 'short':
        claim = await t.fixtures.claimed('text');
        payload = { text: 'too short' };
        break;
      case 'option':
        claim = await t.fixtures.claimed('validation');
        payload = { option: 'maybe' };
        break;
      case 'criterion':
        claim = await t.fixtures.claimed('rlhf');
        payload = { preferred: 'b', ratings: { style: 5 } };
        break;
      default:
        claim = await t.fixtures.claimed('audio');
        payload = { media_id: randomUUID() };
    }
    const before = await counts();
    const response = await submit(claim, payload);
    expect([response.status, response.body.code]).toEqual([status, code]);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(await counts()).toEqual(before);
  });

  it("refuses another contributor's upload as if it did not exist, and attaches nothing", async () => {
    const owner = await t.fixtures.claimed('audio');
    const mediaId = await t.upload(owner.token, wav(6));
    const thief = await t.fixtures.claim(await t.fixtures.task('audio'));
    const before = await counts();
    const response = await submit(thief, { media_id: mediaId });
    expect([response.status, response.body.code]).toEqual([422, 'MEDIA_NOT_FOUND']);
    expect(await counts()).toEqual(before);
    // The owner can still hand it in.
    expect((await submit(owner, { media_id: mediaId })).status).toBe(202);
  });

  it('lets only contributors hand in work', async () => {
    const claim = await t.fixtures.claimed('text');
    const company = await t.token({ sub: claim.contributorId, role: 'company' });
    const response = await submit({ ...claim, token: company }, { text: morning });
    expect([response.status, response.body.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('refuses a body that is not a hand-in with 400 naming the field', async () => {
    const claim = await t.fixtures.claimed('text');
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/submissions',
      token: claim.token,
      body: { assignment_id: claim.assignmentId, payload: { text: morning }, time_spent_seconds: -3 },
    });
    expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(response.body.detail).toContain('time_spent_seconds');
  });
});
