import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalOf, startTestEngagement, type TestEngagement, type TestUser } from '../testing/harness.ts';
import { type Item, openNotificationStream } from '../testing/sse.ts';

// The stream needs a real socket (app.inject waits for the end of a response, which never comes).
let t: TestEngagement;
let base: string;
let admin: string;
/** How far the service's clock is ahead of the real one. */
let skewMs = 0;

beforeAll(async () => {
  t = await startTestEngagement(
    {
      ENGAGEMENT_NOTIFICATION_HEARTBEAT_MS: 200,
      ENGAGEMENT_NOTIFICATION_MAX_STREAMS_PER_USER: 2,
      ENGAGEMENT_NOTIFICATION_LISTEN_RETRY_MS: 50,
    },
    { clock: () => new Date(Date.now() + skewMs) },
  );
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
  await listen();
});
afterAll(() => t?.stop());

async function listen() {
  await t.service.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.service.app.server.address() as AddressInfo).port}`;
}

/** An open stream for `user`, checked to be an SSE answer. */
async function connect(user: TestUser, lastEventId?: string) {
  const stream = await openNotificationStream(base, user.token, lastEventId);
  expect(stream.response.status).toBe(200);
  expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(stream.response.headers.get('cache-control')).toContain('no-cache');
  expect(stream.response.headers.get('x-accel-buffering')).toBe('no');
  return stream;
}

async function approve(user: TestUser) {
  const approval = approvalOf(user.id);
  await t.emit('submissions.submission.approved.v1', approval);
  return approval.submission_id;
}

describe('the notification stream', () => {
  it('delivers on the open stream and resumes after a reconnect without a gap or a repeat', async () => {
    const user = await t.contributor();
    const stream = await connect(user);
    const first = await approve(user);
    // Pushed on the connection already open (how fast: scripts/bench-stream.ts).
    const live = await stream.nextEvent(5_000);
    expect(live.item).toMatchObject({
      id: live.id,
      kind: 'submission_approved',
      data: { submission_id: first },
    });
    stream.close();

    const second = await approve(user);
    const third = await approve(user);
    const resumed = await connect(user, live.id);
    // Other capabilities may tell this user things too (a badge): take every event, in order.
    const received: { id: string; item: Item }[] = [];
    while (received.filter((e) => e.item.kind === 'submission_approved').length < 2) {
      received.push(await resumed.nextEvent());
    }
    const approvals = received.filter((e) => e.item.kind === 'submission_approved');
    expect(approvals.map((e) => e.item.data.submission_id)).toEqual([second, third]);
    const ids = received.map((e) => e.id);
    expect(ids.every((id, i) => id > (i === 0 ? live.id : ids[i - 1]!))).toBe(true);
    // No gap: exactly what the user has after the resume point, each once.
    const rest = await resumed.drain(500);
    ids.push(...rest.frames.filter((f) => f.event === 'notification').map((f) => f.id!));
    const stored = await t.service.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', user.id)
      .where('id', '>', live.id)
      .orderBy('id')
      .execute();
    expect(ids).toEqual(stored.map((row) => row.id));
    resumed.close();
  });

  it('sends heartbeats', async () => {
    const user = await t.contributor();
    const stream = await connect(user);
    const { frames } = await stream.drain(700);
    expect(frames.filter((f) => f.comment === 'ping').length).toBeGreaterThanOrEqual(2);
    stream.close();
  });

  it('sends nothing old without Last-Event-ID, and the unread ones after an old id', async () => {
    const user = await t.contributor();
    const before = await approve(user);
    const fresh = await connect(user);
    const sent = (await fresh.drain(400)).frames.filter((f) => f.event === 'notification');
    expect(sent.map((f) => (JSON.parse(f.data!) as Item).data.submission_id)).not.toContain(before);
    fresh.close();
    const fromStart = await connect(user, '00000000-0000-0000-0000-000000000000');
    let event = await fromStart.nextEvent();
    while (event.item.kind !== 'submission_approved') event = await fromStart.nextEvent();
    expect(event.item.data.submission_id).toBe(before);
    fromStart.close();
  });

  it('delivers announcements live to their audience only', async () => {
    const contributor = await t.contributor();
    const companyId = randomUUID();
    await t.emit('identity.user.registered.v1', {
      user_id: companyId,
      role: 'company',
      country: null,
      languages: [],
    });
    const firm = { id: companyId, token: await t.token({ sub: companyId, role: 'company' }) };
    const theirs = await connect(contributor);
    const other = await connect(firm);
    const made = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/announcements',
      token: admin,
      body: { audience: 'contributors', title: 'New task types', body: 'Audio tasks are open.' },
    });
    expect(made.status).toBe(201);
    const got = await theirs.nextEvent(1_000);
    expect(got).toMatchObject({
      id: made.body.announcement.id,
      item: { kind: 'announcement', title: 'New task types' },
    });
    expect((await other.drain(400)).frames.filter((f) => f.event === 'notification')).toEqual([]);
    theirs.close();
    other.close();
  });

  it('keeps delivering after the LISTEN connection drops', async () => {
    const user = await t.contributor();
    const stream = await connect(user);
    const killed = await sql<{ ok: boolean }>`
      select pg_terminate_backend(pid) as ok from pg_stat_activity
      where query ilike 'listen engagement_notifications'`.execute(t.service.db);
    expect(killed.rows.length).toBeGreaterThan(0);
    const submissionId = await approve(user);
    expect((await stream.nextEvent(3_000)).item.data.submission_id).toBe(submissionId);
    stream.close();
  });

  it('refuses a stream without a token, with a bad Last-Event-ID, or one too many', async () => {
    const user = await t.contributor();
    expect((await fetch(`${base}/api/v1/notifications/stream`)).status).toBe(401);
    const bad = await fetch(`${base}/api/v1/notifications/stream`, {
      headers: { authorization: `Bearer ${user.token}`, 'last-event-id': 'not-an-id' },
    });
    expect(bad.status).toBe(400);
    // A token in the URL (where logs keep it) authenticates no one: without the header, 401.
    const viaQuery = await fetch(`${base}/api/v1/notifications/stream?access_token=${user.token}`);
    expect(viaQuery.status).toBe(401);
    const one = await connect(user);
    const two = await connect(user);
    const three = await fetch(`${base}/api/v1/notifications/stream`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(three.status).toBe(429);
    expect(((await three.json()) as { code: string }).code).toBe('TOO_MANY_STREAMS');
    one.close();
    two.close();
  });

  it('ends open streams when the service stops, so stopping does not hang', async () => {
    const user = await t.contributor();
    const stream = await connect(user);
    const started = Date.now();
    await t.service.stop(); // what restart() and stop() begin with
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await stream.drain(1_000)).ended).toBe(true);
    await t.restart();
    await listen();
  });
});

describe('a stream outlives neither its token nor its session nor its account', () => {
  /** A contributor with a session token (`sid`) and an open stream of it. */
  async function openSession(expiresAt?: Date) {
    const user = await t.contributor();
    const sessionId = randomUUID();
    const session = {
      id: user.id,
      sessionId,
      token: t.sessionToken(user.id, { sessionId, ...(expiresAt ? { expiresAt } : {}) }),
    };
    return { user: session, stream: await connect(session) };
  }

  /** What the stream sends from now until it ends (or `ms` pass). */
  async function afterwards(stream: Awaited<ReturnType<typeof connect>>, ms = 1_500) {
    const { frames, ended } = await stream.drain(ms);
    return { ended, notifications: frames.filter((frame) => frame.event === 'notification') };
  }

  it('ends when its session is revoked (logout), and sends nothing after', async () => {
    const { user, stream } = await openSession();
    const now = new Date();
    await t.emit('identity.principal.revoked.v1', {
      kind: 'session',
      principal_id: user.sessionId,
      owner_id: user.id,
      reason: 'LOGOUT',
      revoked_at: now.toISOString(),
      tokens_expire_by: new Date(now.getTime() + 900_000).toISOString(),
    });
    await approve(user);
    expect(await afterwards(stream)).toEqual({ ended: true, notifications: [] });
    // The same token opens nothing again.
    const again = await fetch(`${base}/api/v1/notifications/stream`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(again.status).toBe(401);
  });

  it('ends when the user is suspended, and a suspended user opens none (403 ACCOUNT_NOT_ACTIVE)', async () => {
    const { user, stream } = await openSession();
    await t.emit('identity.user.suspended.v1', { user_id: user.id, reason_code: 'FRAUD' });
    await approve(user);
    expect(await afterwards(stream)).toEqual({ ended: true, notifications: [] });
    const refused = await fetch(`${base}/api/v1/notifications/stream`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('ACCOUNT_NOT_ACTIVE');
    await t.emit('identity.user.reinstated.v1', { user_id: user.id });
    const reinstated = await connect(user);
    reinstated.close();
  });

  it('ends when the user is erased', async () => {
    const { user, stream } = await openSession();
    await t.emit('identity.user.erased.v1', { user_id: user.id });
    expect((await afterwards(stream)).ended).toBe(true);
  });

  it('ends when its token expires: by the clock at the next event, and by a timer without one', async () => {
    const { user, stream } = await openSession();
    skewMs = 16 * 60_000; // past the token's 15 minutes
    try {
      await approve(user);
      expect(await afterwards(stream)).toEqual({ ended: true, notifications: [] });
    } finally {
      skewMs = 0;
    }
    const soon = await openSession(new Date(Date.now() + 2_000));
    const started = Date.now();
    expect((await afterwards(soon.stream, 4_000)).ended).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_500);
  });
});
