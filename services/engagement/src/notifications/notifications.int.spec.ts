import { randomUUID } from 'node:crypto';
import { foreignEvent, gotLock } from '@tessera/service-kit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { notify } from './index.ts';
import { lockUsersOf } from './order.ts';
import { startTestEngagement, type TestEngagement, type TestUser } from '../testing/harness.ts';

let t: TestEngagement;
let admin: string;

beforeAll(async () => {
  t = await startTestEngagement();
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});
afterAll(() => t?.stop());

const usd = (amount: number) => ({ amount, currency: 'USD' });

async function approved(userId: string, submissionId = randomUUID()) {
  await t.emit('submissions.submission.approved.v1', {
    submission_id: submissionId,
    task_id: randomUUID(),
    campaign_id: randomUUID(),
    contributor_id: userId,
    reward: usd(150),
    xp_reward: 0,
  });
  return submissionId;
}

async function company(): Promise<TestUser> {
  const id = randomUUID();
  await t.emit('identity.user.registered.v1', { user_id: id, role: 'company', country: null, languages: [] });
  return { id, token: await t.token({ sub: id, role: 'company' }) };
}

async function list(user: TestUser, query = '') {
  const response = await t.inject({ url: `/api/v1/notifications${query}`, token: user.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as {
    notifications: {
      id: string;
      kind: string;
      title: string;
      data: Record<string, unknown>;
      read_at: string | null;
    }[];
    next_cursor: string | null;
    unread_count: number;
  };
}

/** Only this capability's kinds (other capabilities may notify too, e.g. a badge). */
const mine = (kinds: string[]) => (item: { kind: string }) => kinds.includes(item.kind);

async function announce(audience: string, title = `News ${randomUUID().slice(0, 8)}`) {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/admin/announcements',
    token: admin,
    body: { audience, title, body: 'Maintenance on Sunday.\nExpect a short pause.' },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.announcement as { id: string; audience: string; title: string };
}

describe('notifications from events', () => {
  it('tells a contributor their submission was approved, once however often the event comes', async () => {
    const user = await t.contributor();
    const submissionId = randomUUID();
    const data = {
      submission_id: submissionId,
      task_id: randomUUID(),
      campaign_id: randomUUID(),
      contributor_id: user.id,
      reward: usd(150),
      xp_reward: 0,
    };
    await t.emit('submissions.submission.approved.v1', data);
    await t.emit('submissions.submission.approved.v1', data); // another event id, same cause
    const { notifications, unread_count } = await list(user);
    const ours = notifications.filter(mine(['submission_approved']));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      kind: 'submission_approved',
      title: 'Submission approved',
      read_at: null,
      data: { submission_id: submissionId, task_id: data.task_id, reward: usd(150) },
    });
    expect(unread_count).toBeGreaterThanOrEqual(1);
  });

  it('tells money received and a withdrawal’s fate, but not the withdrawal the user requested', async () => {
    const user = await t.contributor();
    const withdrawalId = randomUUID();
    const base = { withdrawal_id: withdrawalId, user_id: user.id, amount: usd(2000) };
    await t.emit('ledger.reward.paid.v1', {
      submission_id: randomUUID(),
      campaign_id: randomUUID(),
      contributor_id: user.id,
      amount: usd(150),
      transfer_id: randomUUID(),
      campaign_remaining: usd(0),
    });
    // Nothing handles it, so it is published, not awaited: the next event on the stream comes after it.
    await t.publish(foreignEvent('payouts.withdrawal.requested.v1', base));
    await t.emit('payouts.withdrawal.approved.v1', { ...base, method: 'admin' });
    await t.emit('payouts.withdrawal.failed.v1', { ...base, reason_code: 'PROVIDER_DOWN' });
    const kinds = (await list(user)).notifications.map((n) => n.kind);
    expect(kinds.filter((k) => k.startsWith('withdrawal_') || k === 'money_received')).toEqual([
      'withdrawal_failed',
      'withdrawal_approved',
      'money_received',
    ]);
  });

  it('tells a contributor their withdrawal is on hold while they are suspended, and when the hold lifts: once each, however often the event comes', async () => {
    const user = await t.contributor();
    const hold = {
      withdrawal_id: randomUUID(),
      user_id: user.id,
      amount: usd(2_500),
      reason_code: 'ACCOUNT_SUSPENDED',
    };
    const frozen = await t.emit('payouts.withdrawal.frozen.v1', hold);
    await t.deliver(consumerNames.payouts, frozen, randomUUID()); // redelivered under a new message id
    const unfrozen = await t.emit('payouts.withdrawal.unfrozen.v1', hold);
    await t.deliver(consumerNames.payouts, unfrozen, randomUUID());
    await t.deliver(consumerNames.payouts, frozen, randomUUID());
    // Handled in stream order: once this is applied, the redeliveries before it were too.
    await t.emit('payouts.withdrawal.approved.v1', { ...hold, method: 'admin' });
    const told = (await list(user)).notifications.filter(
      mine(['withdrawal_on_hold', 'withdrawal_hold_lifted']),
    );
    expect(told.map((n) => [n.kind, n.title])).toEqual([
      ['withdrawal_hold_lifted', 'Withdrawal no longer on hold'],
      ['withdrawal_on_hold', 'Withdrawal on hold'],
    ]);
    expect(told[1]!.data).toEqual({
      withdrawal_id: hold.withdrawal_id,
      amount: usd(2_500),
      reason_code: 'ACCOUNT_SUSPENDED',
    });
    const bodies = await t.service.db
      .selectFrom('notifications')
      .select(['kind', 'body'])
      .where('user_id', '=', user.id)
      .where('kind', 'in', ['withdrawal_on_hold', 'withdrawal_hold_lifted'])
      .orderBy('id')
      .execute();
    expect(bodies.map((n) => n.body)).toEqual([
      'Your withdrawal of 25.00 USD is on hold while your account is suspended: it will not be approved or sent until your account is reinstated. The amount stays reserved for it.',
      'Your account was reinstated: your withdrawal of 25.00 USD is no longer on hold and goes ahead.',
    ]);
    // Replayed once the inbox forgot it (pruned, or a consumer reset): the cause was told already.
    await t.service.db.deleteFrom('inbox').where('event_id', '=', frozen.id).execute();
    await t.deliver(consumerNames.payouts, frozen, randomUUID());
    expect(
      (await list(user)).notifications.filter(mine(['withdrawal_on_hold'])).map((n) => n.kind),
    ).toHaveLength(1);
    // Suspended again: a new hold of the same withdrawal is told again.
    await t.emit('payouts.withdrawal.frozen.v1', hold);
    expect(
      (await list(user)).notifications.filter(mine(['withdrawal_on_hold'])).map((n) => n.kind),
    ).toHaveLength(2);
  });

  it('tells an erased user nothing of a withdrawal on hold', async () => {
    const user = await t.contributor();
    await t.emit('identity.user.erased.v1', { user_id: user.id });
    const hold = {
      withdrawal_id: randomUUID(),
      user_id: user.id,
      amount: usd(900),
      reason_code: 'ACCOUNT_SUSPENDED',
    };
    await t.emit('payouts.withdrawal.frozen.v1', hold);
    await t.emit('payouts.withdrawal.unfrozen.v1', hold);
    expect(
      await t.service.db.selectFrom('notifications').select('id').where('user_id', '=', user.id).execute(),
    ).toEqual([]);
  });

  it('tells a judge a honeypot review’s fee exactly as a real review’s fee of the same amount, once however often it comes', async () => {
    const judge = await t.contributor();
    const amount = { amount: 1_234, currency: 'EUR' };
    const real = await t.emit('ledger.judge-fee.paid.v1', {
      review_id: randomUUID(),
      campaign_id: randomUUID(),
      judge_id: judge.id,
      amount,
      transfer_id: randomUUID(),
      campaign_remaining: usd(0),
    });
    const paid = {
      review_id: randomUUID(),
      campaign_id: randomUUID(),
      judge_id: judge.id,
      amount,
      transfer_ids: [randomUUID(), randomUUID()],
    };
    const honeypot = await t.emit('ledger.honeypot-fee.paid.v1', paid);
    await t.deliver(consumerNames.ledger, honeypot, randomUUID()); // redelivered under a new message id
    await t.emit('ledger.honeypot-fee.paid.v1', paid); // the same payment, another event id
    // Replayed once the inbox forgot it (pruned, or a consumer reset): the fee was told already.
    await t.service.db.deleteFrom('inbox').where('event_id', '=', honeypot.id).execute();
    await t.deliver(consumerNames.ledger, honeypot, randomUUID());

    const told = await t.service.db
      .selectFrom('notifications')
      .select(['kind', 'title', 'body', 'data'])
      .where('user_id', '=', judge.id)
      .where('kind', '=', 'money_received')
      .orderBy('id')
      .execute();
    expect(told).toHaveLength(2); // the real fee's and the honeypot's, once each
    const [fromReal, fromHoneypot] = told;
    expect(fromHoneypot).toEqual({
      ...fromReal,
      data: { ...(fromReal!.data as object), review_id: paid.review_id },
    });
    expect(fromHoneypot).toMatchObject({
      kind: 'money_received',
      title: 'Review fee received',
      body: '12.34 EUR for your review is in your balance.',
      data: { reason: 'judge_fee', amount, review_id: paid.review_id },
    });
    expect(fromReal!.data).toMatchObject({ review_id: real.data.review_id });
  });

  it('tells a level up and a level decrease', async () => {
    const user = await t.contributor();
    await t.emit('engagement.contributor.level-changed.v1', { user_id: user.id, level: 3 });
    await t.emit('engagement.contributor.level-changed.v1', { user_id: user.id, level: 2 });
    const levels = (await list(user)).notifications.filter(mine(['level_changed']));
    expect(levels.map((n) => n.title)).toEqual(['Level decreased', 'Level up']);
    expect(levels[0]!.data).toMatchObject({ level: 2, previous_level: 3, direction: 'down' });
  });
});

describe('listing and reading', () => {
  it('pages newest first with a cursor and filters unread', async () => {
    // Told through notify() itself: events could make other capabilities tell this user more.
    const user = await t.contributor();
    const tell = async () => {
      const submissionId = randomUUID();
      await t.service.db.transaction().execute((trx) =>
        notify(trx, {
          userId: user.id,
          kind: 'submission_approved',
          title: 'Submission approved',
          body: 'Approved.',
          data: { submission_id: submissionId },
          sourceKey: `test:${submissionId}`,
        }),
      );
      return submissionId;
    };
    const first = await tell();
    const second = await tell();
    const third = await tell();
    const page1 = await list(user, '?limit=2');
    expect(page1.notifications.map((n) => n.data.submission_id)).toEqual([third, second]);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = await list(user, `?limit=2&cursor=${page1.next_cursor}`);
    expect(page2.notifications.map((n) => n.data.submission_id)).toEqual([first]);
    expect(page2.next_cursor).toBeNull();

    const read = await t.inject({
      method: 'POST',
      url: `/api/v1/notifications/${page1.notifications[0]!.id}/read`,
      token: user.token,
    });
    expect(read.status).toBe(200);
    expect(read.body.notification.read_at).not.toBeNull();
    const again = await t.inject({
      method: 'POST',
      url: `/api/v1/notifications/${page1.notifications[0]!.id}/read`,
      token: user.token,
    });
    expect(again.body.notification.read_at).toBe(read.body.notification.read_at);

    const unread = await list(user, '?unread=true');
    expect(unread.notifications.map((n) => n.data.submission_id)).toEqual([second, first]);
    expect(unread.unread_count).toBe(2);
  });

  it('refuses a bad cursor and a bad filter with 400', async () => {
    const user = await t.contributor();
    expect((await t.inject({ url: '/api/v1/notifications?cursor=nope', token: user.token })).status).toBe(
      400,
    );
    expect((await t.inject({ url: '/api/v1/notifications?unread=yes', token: user.token })).status).toBe(400);
    expect((await t.inject({ url: '/api/v1/notifications' })).status).toBe(401);
  });

  it("answers 404 for someone else's notification and for an unknown id", async () => {
    const owner = await t.contributor();
    const other = await t.contributor();
    await approved(owner.id);
    const [item] = (await list(owner)).notifications;
    for (const id of [item!.id, randomUUID()]) {
      const response = await t.inject({
        method: 'POST',
        url: `/api/v1/notifications/${id}/read`,
        token: other.token,
      });
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('NOTIFICATION_NOT_FOUND');
    }
    expect((await list(owner)).notifications[0]!.read_at).toBeNull();
  });

  it('marks everything read, announcements included', async () => {
    const user = await t.contributor();
    await approved(user.id);
    await approved(user.id);
    const news = await announce('contributors');
    // A first approval may also unlock a badge, whose notification comes back through the stream.
    await t.settled();
    const before = await list(user);
    expect(before.notifications.some((n) => n.id === news.id && n.read_at === null)).toBe(true);
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/notifications/read-all',
      token: user.token,
    });
    expect(response.status).toBe(200);
    expect(response.body.marked).toBe(before.unread_count);
    const after = await list(user);
    expect(after.unread_count).toBe(0);
    expect(after.notifications.every((n) => n.read_at !== null)).toBe(true);
    const twice = await t.inject({
      method: 'POST',
      url: '/api/v1/notifications/read-all',
      token: user.token,
    });
    expect(twice.body.marked).toBe(0);
  });
});

describe('announcements', () => {
  it('reach their audience only, stored once and read per user', async () => {
    const contributor = await t.contributor();
    const reader2 = await t.contributor();
    const firm = await company();
    const all = await announce('all');
    const toContributors = await announce('contributors');
    const toCompanies = await announce('companies');

    const seen = async (user: TestUser) =>
      (await list(user)).notifications.filter((n) => n.kind === 'announcement').map((n) => n.id);
    expect(await seen(contributor)).toEqual([toContributors.id, all.id]);
    expect(await seen(firm)).toEqual([toCompanies.id, all.id]);

    const read = await t.inject({
      method: 'POST',
      url: `/api/v1/notifications/${all.id}/read`,
      token: contributor.token,
    });
    expect(read.status).toBe(200);
    expect(read.body.notification).toMatchObject({
      id: all.id,
      kind: 'announcement',
      data: { audience: 'all' },
    });
    expect(read.body.notification.read_at).not.toBeNull();
    // Read for one user, unread for another; the announcement is one row.
    expect((await list(reader2)).notifications.find((n) => n.id === all.id)?.read_at).toBeNull();
    const rows = await t.service.db
      .selectFrom('announcements')
      .select('id')
      .where('id', '=', all.id)
      .execute();
    expect(rows).toHaveLength(1);

    const notForThem = await t.inject({
      method: 'POST',
      url: `/api/v1/notifications/${toCompanies.id}/read`,
      token: contributor.token,
    });
    expect(notForThem.status).toBe(404);
  });

  it('do not reach users who registered after them', async () => {
    const news = await announce('all');
    const newcomer = await t.contributor();
    expect((await list(newcomer)).notifications.some((n) => n.id === news.id)).toBe(false);
  });

  it('are for admins to make, with text that is plain', async () => {
    const user = await t.contributor();
    const byContributor = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/announcements',
      token: user.token,
      body: { audience: 'all', title: 'Hi', body: 'x' },
    });
    expect(byContributor.status).toBe(403);
    for (const body of [
      { audience: 'all', title: 'Hi\u202Eevil', body: 'x' },
      { audience: 'all', title: '   ', body: 'x' },
      { audience: 'judges', title: 'Hi', body: 'x' },
      { audience: 'all', title: 'Hi', body: 'x', extra: true },
    ]) {
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/announcements',
        token: admin,
        body,
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const made = await announce('companies', 'Listed news');
    const listed = await t.inject({ url: '/api/v1/admin/announcements?limit=100', token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.announcements[0]).toMatchObject({
      id: made.id,
      audience: 'companies',
      title: 'Listed news',
    });
  });

  it('answer a replayed Idempotency-Key with the same announcement', async () => {
    const key = randomUUID();
    const body = { audience: 'all', title: 'Once', body: 'Only once.' };
    const first = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/announcements',
      token: admin,
      key,
      body,
    });
    const second = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/announcements',
      token: admin,
      key,
      body,
    });
    expect(first.status).toBe(201);
    expect(second.body.announcement.id).toBe(first.body.announcement.id);
  });
});

describe('erasure', () => {
  it("deletes the user's notifications and reads, and tells them nothing after", async () => {
    const user = await t.contributor();
    await approved(user.id);
    const news = await announce('all');
    await t.inject({ method: 'POST', url: '/api/v1/notifications/read-all', token: user.token });
    await t.emit('identity.user.erased.v1', { user_id: user.id });
    await approved(user.id);
    const db = t.service.db;
    expect(
      await db.selectFrom('notifications').select('id').where('user_id', '=', user.id).execute(),
    ).toEqual([]);
    expect(
      await db.selectFrom('announcement_reads').select('user_id').where('user_id', '=', user.id).execute(),
    ).toEqual([]);
    expect(
      await db.selectFrom('announcements').select('id').where('id', '=', news.id).execute(),
    ).toHaveLength(1);
  });
});

describe('ids in commit order', () => {
  it("makes a user's next notification, and an announcement, wait for one being written", async () => {
    const user = await t.contributor();
    const notice = (key: string) => ({
      userId: user.id,
      kind: 'submission_approved',
      title: 'Submission approved',
      body: 'Approved.',
      data: {},
      sourceKey: `order:${key}`,
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: { first?: string | null } = {};
    const first = t.service.db.transaction().execute(async (trx) => {
      seen.first = await notify(trx, notice('a'));
      await gate; // still open: not committed
    });
    while (!seen.first) await new Promise((resolve) => setTimeout(resolve, 10));

    let secondDone = false;
    const second = t.service.db
      .transaction()
      .execute((trx) => notify(trx, notice('b')))
      .finally(() => (secondDone = true));
    let announced = false;
    const announcement = t
      .inject({
        method: 'POST',
        url: '/api/v1/admin/announcements',
        token: admin,
        body: { audience: 'all', title: 'Order', body: 'Waits.' },
      })
      .finally(() => (announced = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(secondDone).toBe(false);
    expect(announced).toBe(false);

    release();
    await first;
    const secondId = await second;
    const made = await announcement;
    const firstId = seen.first;
    expect(secondId! > firstId).toBe(true);
    expect(made.status).toBe(201);
    expect(made.body.announcement.id > firstId).toBe(true);
  });

  it("lets a consumer's batch take first the user lock of every user its events name (lockUsersOf)", async () => {
    const [named, contributor, judge, other] = await Promise.all([1, 2, 3, 4].map(() => t.contributor()));
    const events = [
      foreignEvent('identity.user.suspended.v1', { user_id: named!.id, reason_code: 'fraud' }, named!.id),
      {
        ...foreignEvent('identity.user.suspended.v1', { user_id: named!.id, reason_code: 'x' }, 'x'),
        data: { contributor_id: contributor!.id.toUpperCase(), judge_id: judge!.id },
      },
    ];
    const notice = (userId: string) => ({
      userId,
      kind: 'submission_approved',
      title: 'Submission approved',
      body: 'Approved.',
      data: {},
      sourceKey: `lock-first:${userId}`,
    });
    /** Whether a notification to `userId` can be written now, or waits for the batch's lock. */
    const writable = (userId: string) =>
      gotLock(() =>
        t.service.db.transaction().execute(async (trx) => {
          await sql`set local lock_timeout = '200ms'`.execute(trx);
          await notify(trx, notice(userId));
        }),
      );

    const seen = await t.service.db.transaction().execute(async (trx) => {
      await lockUsersOf(trx, events as never);
      return Promise.all([named, contributor, judge, other].map((user) => writable(user!.id)));
    });

    expect(seen).toEqual([false, false, false, true]);
  });
});
