import { randomUUID } from 'node:crypto';
import { createLogger } from '@tessera/service-kit';
import { foreignEvent } from '@tessera/service-kit/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PayoutsContext } from '../context.ts';
import { consumerNames } from '../messaging/consumers.ts';
import { paypalProvider } from '../providers/paypal.ts';
import { manualProvider, type PayoutProvider } from '../providers/provider.ts';
import { type FakePayPal, startFakePayPal } from '../providers/testing/fake-paypal.ts';
import { readMethodDetails } from '../methods/index.ts';
import { payoutsWorkers } from '../service.ts';
import { startTestPayouts, type TestPayouts } from '../testing/harness.ts';
import { ledgerAnswered } from './handle.ts';
import { RECONCILE_JOB, sendApproved } from './jobs.ts';

// The payout sender against a local PayPal (its Payouts API over HTTP), on payouts' own clock; the
// ledger's holds are delivered by hand, and what payouts tells the ledger is read from its outbox.
let t: TestPayouts;
let paypal: FakePayPal;
let provider: PayoutProvider;
let now = new Date('2031-05-01T09:00:00Z');
/** Longer than the longest wait between two polls of a pending payout (an hour). */
const HOUR = 3_600_000 + 1_000;
const DAY = 86_400_000;

const silent = createLogger({ name: 'sender-test', level: 'silent', pretty: false });
const paypalFor = (fake: FakePayPal, timeoutMs = 1_000) =>
  paypalProvider({
    baseUrl: fake.url,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    logger: silent,
    timeoutMs,
    webhookId: fake.webhookId,
  });

beforeAll(async () => {
  paypal = await startFakePayPal();
  provider = paypalFor(paypal);
  t = await startTestPayouts(
    {},
    {
      clock: () => now,
      provider,
      workers: { [payoutsWorkers.autoApprove]: false, [payoutsWorkers.sender]: false },
    },
  );
});

afterAll(async () => {
  await t?.stop();
  await paypal?.close();
});

beforeEach(async () => {
  paypal.reset();
  // A payout a test left pending (or a test that failed half-way) stays out of the next tests' runs,
  // where it would take the faults they set up for their own.
  await t.service.db
    .updateTable('withdrawals')
    .set({ next_attempt_at: null })
    .where('status', '=', 'processing')
    .execute();
});

const later = (ms: number) => {
  now = new Date(now.getTime() + ms);
};
/** The running service, with a silent logger (the failures logged are the point). */
const quiet = (): PayoutsContext => ({ ...t.service, logger: silent });
const send = () => sendApproved(quiet());

/** A withdrawal to a PayPal method, held by the ledger and approved by an admin. */
async function approved(amount = 2_500) {
  const { id, methodId, user, hold } = await requested(amount);
  await hold();
  const approval = await t.inject({
    method: 'POST',
    url: `/api/v1/admin/withdrawals/${id}/approve`,
    token: await admin(),
  });
  expect(approval.body.withdrawal?.status, JSON.stringify(approval.body)).toBe('approved');
  return { id, methodId, user };
}

/** A withdrawal to a PayPal method, asked for; `hold()` delivers the ledger's hold. */
async function requested(amount = 2_500) {
  const user = await t.fixtures.contributor();
  const added = await t.inject({
    method: 'POST',
    url: '/api/v1/payout-methods',
    token: user.token,
    body: { type: 'paypal', email: `payee-${randomUUID().slice(0, 8)}@example.com` },
  });
  expect(added.status, JSON.stringify(added.body)).toBe(201);
  const methodId = added.body.method.id as string;
  const { id, hold } = await requestedBy(user, methodId, amount);
  return { id, methodId, user, hold };
}

/** Another withdrawal of `user` to their method, asked for; `hold()` delivers the ledger's hold. */
async function requestedBy(user: { id: string; token: string }, methodId: string, amount: number) {
  const asked = await t.inject({
    method: 'POST',
    url: '/api/v1/withdrawals',
    token: user.token,
    key: randomUUID(),
    body: { amount: { amount, currency: 'USD' }, method_id: methodId },
  });
  expect(asked.status, JSON.stringify(asked.body)).toBe(202);
  const id = asked.body.withdrawal.id as string;
  const holdEvent = foreignEvent('ledger.withdrawal.hold-placed.v1', {
    withdrawal_id: id,
    user_id: user.id,
    amount: { amount, currency: 'USD' },
    transfer_id: randomUUID(),
  });
  return { id, holdEvent, hold: () => t.deliver(consumerNames.ledger, holdEvent) };
}

const admin = () => t.token({ sub: randomUUID(), role: 'admin' });

const row = (id: string) =>
  t.service.db
    .selectFrom('withdrawals')
    .select(['status', 'attempts', 'external_transaction_id', 'reason_code', 'sent_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

/** What payouts told the ledger about a withdrawal: `failed` releases the hold, `completed` posts it. */
const told = async (id: string) => ({
  failed: (await t.written('payouts.withdrawal.failed.v1', 'withdrawal_id', id)).length,
  completed: (await t.written('payouts.withdrawal.completed.v1', 'withdrawal_id', id)).length,
});

/** What identity tells payouts about a user: suspended, reinstated, erased. */
const identity = {
  suspend: (userId: string) =>
    t.deliver(
      consumerNames.identity,
      foreignEvent('identity.user.suspended.v1', { user_id: userId, reason_code: 'FRAUD_REVIEW' }),
    ),
  reinstate: (userId: string) =>
    t.deliver(consumerNames.identity, foreignEvent('identity.user.reinstated.v1', { user_id: userId })),
  erase: (userId: string) =>
    t.deliver(consumerNames.identity, foreignEvent('identity.user.erased.v1', { user_id: userId })),
};

/** The withdrawals parked for an operator to reconcile with the provider, as admins see them. */
async function parkedForReconciliation(): Promise<{ item: string; error: string }[]> {
  const reply = await t.inject({
    url: `/api/v1/admin/payouts/parked-items?job=${RECONCILE_JOB}`,
    token: await admin(),
  });
  expect(reply.status).toBe(200);
  return reply.body.parked_items as { item: string; error: string }[];
}

const retryParked = async (id: string) =>
  t.inject({
    method: 'POST',
    url: `/api/v1/admin/payouts/parked-items/${RECONCILE_JOB}/${id}/retry`,
    token: await admin(),
  });

/** An admin records what PayPal says of a parked payout. */
const reconcile = async (id: string, body: unknown, token?: string) =>
  t.inject({
    method: 'POST',
    url: `/api/v1/admin/withdrawals/${id}/reconcile`,
    token: token ?? (await admin()),
    body,
  });

/** A send that times out on our side while PayPal makes the payout all the same: never named to us. */
async function sendTimingOut(id: string) {
  paypal.slow('create', 400);
  t.service.resources.provider = paypalFor(paypal, 100);
  try {
    await send();
  } finally {
    t.service.resources.provider = provider;
  }
  expect(await row(id)).toMatchObject({ status: 'processing', attempts: 1, external_transaction_id: null });
  await expect.poll(() => paypal.payoutFor(id)?.batchId, { timeout: 2_000, interval: 20 }).toBeTruthy();
  return paypal.payoutFor(id)!.batchId;
}

/** How many times PayPal was asked to pay, or asked about, a withdrawal. */
const asked = (id: string, batchId?: string | null) =>
  paypal.requests.filter(
    (r) =>
      (r.route === 'create' && r.requestId === id) ||
      (batchId && r.route === 'batch' && r.path.endsWith(`/${batchId}`)),
  ).length;

describe('the payout sender', () => {
  it('keeps asking about a payout PayPal holds as pending, however long, and a later error does not fail it', async () => {
    const max = t.config.PAYOUTS_MAX_ATTEMPTS;
    paypal.nextItem = [
      ...Array.from({ length: max + 1 }, () => ({ status: 'PENDING' as const })),
      { status: 'UNCLAIMED' },
      { status: 'SUCCESS' },
    ];
    const { id } = await approved();
    await send();
    for (let poll = 0; poll <= max; poll += 1) {
      later(HOUR);
      await send();
      expect((await row(id)).status).toBe('processing');
    }
    // More polls than PAYOUTS_MAX_ATTEMPTS, then one 503: an error to retry, PayPal still holds it.
    paypal.fail('batch', 503);
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'processing', attempts: 1 });
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'processing', attempts: 0 });
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect(paypal.payoutsCreated).toBe(1);
  });

  it('keeps the hold of a payout PayPal holds whose status cannot be read, parks it for an operator, and asks again once retried', async () => {
    const max = t.config.PAYOUTS_MAX_ATTEMPTS;
    paypal.nextItem = [{ status: 'SUCCESS' }];
    const { id } = await approved();
    await send();
    const { external_transaction_id: batchId } = await row(id);
    expect(batchId).toBeTruthy();
    paypal.fail('batch', 503, { times: max });
    for (let run = 1; run <= max; run += 1) {
      later(HOUR);
      await send();
    }
    expect(await row(id)).toMatchObject({ status: 'processing', attempts: max });
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });
    // Listed to admins, counted, and in the gauge operators are alerted on.
    const parked = (await parkedForReconciliation()).find((p) => p.item === id);
    expect(parked?.error).toMatch(/hold is kept/);
    const scraped = (await t.service.app.inject({ url: '/metrics' })).body;
    expect(scraped).toMatch(/^tessera_job_items_parked_total\{[^}]*job="payout-reconcile"[^}]*\} 1$/m);
    expect(scraped).toMatch(/^tessera_job_items_parked\{[^}]*\} [1-9]\d*$/m);
    // Parked: the runs leave it out.
    const before = asked(id, batchId);
    later(HOUR);
    await send();
    expect(asked(id, batchId)).toBe(before);

    expect((await retryParked(id)).status).toBe(200);
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect(paypal.payoutsCreated).toBe(1);
  });

  it('keeps the hold of a payout sent before its payout method became unreadable, and parks it for an operator', async () => {
    const max = t.config.PAYOUTS_MAX_ATTEMPTS;
    paypal.nextItem = [{ status: 'SUCCESS' }];
    const { id, methodId } = await approved();
    // The send times out on our side; PayPal makes the payout all the same.
    paypal.slow('create', 400);
    t.service.resources.provider = paypalFor(paypal, 100);
    try {
      await send();
    } finally {
      t.service.resources.provider = provider;
    }
    expect(await row(id)).toMatchObject({ status: 'processing', attempts: 1, external_transaction_id: null });
    await expect.poll(() => paypal.payoutsCreated, { timeout: 2_000, interval: 20 }).toBe(1);
    // Then the method's details no longer open (one byte of the sealed details changed).
    const { db } = t.service;
    const { encrypted_details: original } = await db
      .selectFrom('payout_methods')
      .select('encrypted_details')
      .where('id', '=', methodId)
      .executeTakeFirstOrThrow();
    const damaged = Buffer.from(original!);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 0xff, damaged.length - 1);
    const seal = (details: Buffer) =>
      db
        .updateTable('payout_methods')
        .set({ encrypted_details: details })
        .where('id', '=', methodId)
        .execute();
    await seal(damaged);
    for (let run = 2; run <= max; run += 1) {
      later(HOUR);
      await send();
    }
    expect(await row(id)).toMatchObject({ status: 'processing', attempts: max, reason_code: null });
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });
    expect((await parkedForReconciliation()).map((p) => p.item)).toContain(id);

    // Mended, and retried by an operator: PayPal's payout is found, never made twice.
    await seal(Buffer.from(original!));
    expect((await retryParked(id)).status).toBe(200);
    for (let run = 0; run < 2 && (await row(id)).status === 'processing'; run += 1) {
      later(HOUR);
      await send();
    }
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect(paypal.payoutsCreated).toBe(1);
  });

  it('asks again about a payout whose answer a crash lost, once its lease is over, and pays it once', async () => {
    paypal.nextItem = [{ status: 'SUCCESS' }];
    const { id } = await approved();
    // PayPal takes the payout; payouts dies before it hears the answer.
    let reached = false;
    t.service.resources.provider = {
      ...provider,
      async send(order) {
        await provider.send(order);
        reached = true;
        return new Promise<never>(() => {});
      },
    };
    void send();
    await expect.poll(() => reached, { timeout: 5_000, interval: 20 }).toBe(true);
    expect(await row(id)).toMatchObject({ status: 'processing', external_transaction_id: null });
    await t.restart();
    expect(t.service.resources.provider).toBe(provider);

    // Within the lease nothing is asked: the run that died might still have been waiting.
    const before = asked(id);
    await send();
    expect(asked(id)).toBe(before);
    later(t.config.PAYOUTS_SEND_LEASE_MS + 1_000);
    await send();
    expect(asked(id)).toBe(before + 1);
    expect((await row(id)).external_transaction_id).toBe(paypal.payoutFor(id)?.batchId);
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect(paypal.payoutsCreated).toBe(1);
  });

  it('asks PayPal once when two instances find the same withdrawal due at once', async () => {
    paypal.nextItem = [{ status: 'SUCCESS' }];
    const { id } = await approved();
    await send();
    const { external_transaction_id: batchId } = await row(id);
    later(HOUR);
    paypal.slow('batch', 300, 2);
    // Another instance: the same database, its own provider client.
    const other: PayoutsContext = {
      ...quiet(),
      resources: { ...t.service.resources, provider: paypalFor(paypal) },
    };
    await Promise.all([sendApproved(quiet()), sendApproved(other)]);
    expect(asked(id, batchId)).toBe(2); // the send, then one status read
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
  });

  it('never posts a batch again once PayPal refused it as a duplicate without naming it: parked for an operator, paid once', async () => {
    paypal.nextItem = [{ status: 'SUCCESS' }];
    paypal.honourRequestId = false;
    paypal.duplicateLink = false;
    const { id } = await approved();
    const batchId = await sendTimingOut(id);
    // Asked again, PayPal refuses the repeated sender_batch_id, without the link to its batch.
    later(HOUR);
    await send();
    expect(asked(id)).toBe(2);
    expect(await row(id)).toMatchObject({ status: 'processing', external_transaction_id: null });
    for (let run = 0; run < 3; run += 1) {
      later(HOUR);
      await send();
    }
    // PayPal's duplicate window passes: a post now would be a second payout. None is made.
    paypal.duplicateWindowPassed();
    later(31 * DAY);
    await send();
    expect({ posts: asked(id), payouts: paypal.payoutsCreated }).toEqual({ posts: 2, payouts: 1 });
    // Parked for an operator, the hold kept.
    expect((await parkedForReconciliation()).find((p) => p.item === id)?.error).toMatch(
      /DUPLICATE_BATCH_NOT_NAMED.*hold is kept/,
    );
    expect(await row(id)).toMatchObject({ status: 'processing', external_transaction_id: null });
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });

    // The operator finds the payout in PayPal's dashboard and records it.
    const reconciled = await reconcile(id, { outcome: 'completed', provider_reference: batchId });
    expect([reconciled.status, reconciled.body.withdrawal?.status]).toEqual([200, 'completed']);
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect(paypal.payoutsCreated).toBe(1);
  });

  it("never sends again a payout sent but never named once PayPal's duplicate window may be over: parked, never paid twice", async () => {
    const max = t.config.PAYOUTS_MAX_ATTEMPTS;
    paypal.nextItem = [{ status: 'SUCCESS' }];
    const { id } = await approved();
    const batchId = await sendTimingOut(id);
    // PayPal cannot be reached for the next attempts: the payout may be out, so it is parked.
    paypal.fail('create', 503, { times: max - 1 });
    for (let run = 2; run <= max; run += 1) {
      later(HOUR);
      await send();
    }
    expect(await row(id)).toMatchObject({
      status: 'processing',
      attempts: max,
      external_transaction_id: null,
    });
    expect((await parkedForReconciliation()).map((p) => p.item)).toContain(id);
    const posted = asked(id);

    // An operator retries it a month later, past PayPal's 30-day duplicate window: a post would
    // now be taken for a new payout. The sender parks it again without asking.
    later(31 * DAY);
    paypal.duplicateWindowPassed();
    expect((await retryParked(id)).status).toBe(200);
    await send();
    expect({ posts: asked(id), payouts: paypal.payoutsCreated }).toEqual({ posts: posted, payouts: 1 });
    expect(await row(id)).toMatchObject({ status: 'processing', external_transaction_id: null });
    expect((await parkedForReconciliation()).find((p) => p.item === id)?.error).toMatch(
      /RESEND_WINDOW_PASSED/,
    );
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });

    const reconciled = await reconcile(id, { outcome: 'completed', provider_reference: batchId });
    expect([reconciled.status, reconciled.body.withdrawal?.status]).toEqual([200, 'completed']);
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
  });

  it('refuses to record by hand a payout PayPal pays, sent or about to be (409 WITHDRAWAL_NOT_MANUAL)', async () => {
    paypal.nextItem = [{ status: 'PENDING' }];
    const sent = (await approved()).id;
    await send();
    const waiting = (await approved()).id;
    const token = await admin();
    const record = (id: string) =>
      t.inject({
        method: 'PUT',
        url: `/api/v1/withdrawals/${id}/process`,
        token,
        body: { status: 'completed', external_transaction_id: 'BANK-REF-7' },
      });
    for (const id of [sent, waiting]) {
      const refused = await record(id);
      expect([refused.status, refused.body.code]).toEqual([409, 'WITHDRAWAL_NOT_MANUAL']);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(await told(id)).toEqual({ failed: 0, completed: 0 });
    }
    expect((await row(sent)).status).toBe('processing');
    expect((await row(waiting)).status).toBe('approved');
    // With the manual provider an admin records it, as before.
    t.service.resources.provider = manualProvider;
    try {
      const paid = await record(waiting);
      expect([paid.status, paid.body.withdrawal?.status]).toEqual([200, 'completed']);
    } finally {
      t.service.resources.provider = provider;
    }
  });
});

describe("a suspended or erased user's withdrawals", () => {
  it("does not send a suspended user's approved withdrawal: it stays approved, and is paid once they are reinstated", async () => {
    paypal.nextItem = [{ status: 'SUCCESS' }];
    const { id, user } = await approved();
    await identity.suspend(user.id);
    await send();
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'approved', sent_at: null });
    expect(asked(id)).toBe(0);
    expect(await t.written('payouts.withdrawal.processing.v1', 'withdrawal_id', id)).toHaveLength(0);

    await identity.reinstate(user.id);
    await send();
    expect((await row(id)).status).toBe('processing');
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect(paypal.payoutsCreated).toBe(1);
  });

  it('tells a suspended user, and admins, that their withdrawals are on hold (held_reason ACCOUNT_SUSPENDED) until they are reinstated', async () => {
    const { id, user, methodId } = await approved();
    const reviewing = await t.inject({
      method: 'POST',
      url: '/api/v1/withdrawals',
      token: user.token,
      key: randomUUID(),
      body: { amount: { amount: 1_000, currency: 'USD' }, method_id: methodId },
    });
    expect(reviewing.status, JSON.stringify(reviewing.body)).toBe(202);
    const second = reviewing.body.withdrawal.id as string;
    await t.deliver(
      consumerNames.ledger,
      foreignEvent('ledger.withdrawal.hold-placed.v1', {
        withdrawal_id: second,
        user_id: user.id,
        amount: { amount: 1_000, currency: 'USD' },
        transfer_id: randomUUID(),
      }),
    );
    const token = await admin();
    const read = async () => ({
      own: (await t.inject({ url: `/api/v1/withdrawals/${id}`, token: user.token })).body.withdrawal,
      mine: (await t.inject({ url: '/api/v1/withdrawals/me', token: user.token })).body.withdrawals as {
        id: string;
        status: string;
        held_reason: string | null;
      }[],
      admin: (await t.inject({ url: `/api/v1/withdrawals/${id}`, token })).body.withdrawal,
      queue: (
        (await t.inject({ url: '/api/v1/admin/withdrawals?status=pending_review&limit=200', token })).body
          .withdrawals as { id: string; held_reason: string | null }[]
      ).find((w) => w.id === second),
    });
    const before = await read();
    expect(before.own).toMatchObject({ status: 'approved', held_reason: null });
    expect(before.queue).toMatchObject({ held_reason: null });

    await identity.suspend(user.id);
    await send();
    const held = await read();
    expect(held.own).toMatchObject({ status: 'approved', held_reason: 'ACCOUNT_SUSPENDED' });
    expect(held.own.next).toMatch(/account is suspended/);
    expect(held.admin).toMatchObject({ held_reason: 'ACCOUNT_SUSPENDED' });
    expect(held.mine.map((w) => [w.id, w.status, w.held_reason]).sort()).toEqual(
      [
        [second, 'pending_review', 'ACCOUNT_SUSPENDED'],
        [id, 'approved', 'ACCOUNT_SUSPENDED'],
      ].sort(),
    );
    expect(held.queue).toMatchObject({ held_reason: 'ACCOUNT_SUSPENDED' });

    await identity.reinstate(user.id);
    const reinstated = await read();
    expect(reinstated.own).toMatchObject({ status: 'approved', held_reason: null });
    expect(reinstated.queue).toMatchObject({ held_reason: null });
  });

  it("refuses to record by hand a suspended user's approved payout as completed (403 ACCOUNT_NOT_ACTIVE), but records one already handed to the admin", async () => {
    t.service.resources.provider = manualProvider;
    try {
      // The manual provider's sender hands one to the admin (processing); the other stays approved.
      const handed = await approved();
      await send();
      expect((await row(handed.id)).status).toBe('processing');
      const waiting = await approved();
      const token = await admin();
      const record = (id: string) =>
        t.inject({
          method: 'PUT',
          url: `/api/v1/withdrawals/${id}/process`,
          token,
          body: { status: 'completed', external_transaction_id: 'BANK-REF-9' },
        });
      for (const { user } of [waiting, handed]) await identity.suspend(user.id);
      const refused = await record(waiting.id);
      expect([refused.status, refused.body.code]).toEqual([403, 'ACCOUNT_NOT_ACTIVE']);
      expect(await told(waiting.id)).toEqual({ failed: 0, completed: 0 });
      expect((await row(waiting.id)).status).toBe('approved');
      // Handed to the admin before the suspension, it may be paid already: recorded as it is.
      const paid = await record(handed.id);
      expect([paid.status, paid.body.withdrawal?.status]).toEqual([200, 'completed']);
      expect(await told(handed.id)).toEqual({ failed: 0, completed: 1 });
      await identity.reinstate(waiting.user.id);
      const later = await record(waiting.id);
      expect([later.status, later.body.withdrawal?.status]).toEqual([200, 'completed']);
    } finally {
      t.service.resources.provider = provider;
    }
  });

  it("completes from PayPal's answer a payout PayPal named before the user was erased, their details gone", async () => {
    paypal.nextItem = [{ status: 'PENDING' }, { status: 'SUCCESS' }];
    const { id, methodId, user } = await approved();
    await send();
    expect((await row(id)).external_transaction_id).toBeTruthy();
    await identity.erase(user.id);
    expect(await readMethodDetails(t.service.db, methodId, t.config.encryption)).toBeUndefined();
    for (let run = 0; run < 3 && (await row(id)).status === 'processing'; run += 1) {
      later(HOUR);
      await send();
    }
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect((await parkedForReconciliation()).map((p) => p.item)).not.toContain(id);
    expect(paypal.payoutsCreated).toBe(1);
  });

  it("cancels an erased user's approved withdrawal before their details are wiped: the hold released once, nothing sent", async () => {
    const { id, methodId, user } = await approved();
    await identity.erase(user.id);
    expect(await readMethodDetails(t.service.db, methodId, t.config.encryption)).toBeUndefined();
    expect((await row(id)).status).toBe('cancelled');
    // Identity's event delivered again: nothing more.
    await identity.erase(user.id);
    await send();
    later(HOUR);
    await send();
    expect((await row(id)).status).toBe('cancelled');
    expect(await t.written('payouts.withdrawal.cancelled.v1', 'withdrawal_id', id)).toHaveLength(1);
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });
    expect(asked(id)).toBe(0);
  });

  it("fails an erased user's withdrawal the sender took but never handed to PayPal: the hold released once", async () => {
    const { id, methodId, user } = await approved();
    // Its details do not open: the sender takes it (processing) but cannot send it yet.
    await t.service.db
      .updateTable('payout_methods')
      .set({ encrypted_details: Buffer.from('damaged') })
      .where('id', '=', methodId)
      .execute();
    await send();
    expect(await row(id)).toMatchObject({ status: 'processing', sent_at: null, attempts: 1 });
    await identity.erase(user.id);
    expect(await row(id)).toMatchObject({ status: 'failed', reason_code: 'ACCOUNT_ERASED' });
    await identity.erase(user.id);
    later(HOUR);
    await send();
    expect(await told(id)).toEqual({ failed: 1, completed: 0 });
    expect(asked(id)).toBe(0);
  });

  it("clears an admin's note on an erased user's rejected withdrawal (free text about them), and no one else's", async () => {
    const token = await admin();
    const reject = async (id: string, reason: string) => {
      const answer = await t.inject({
        method: 'POST',
        url: `/api/v1/admin/withdrawals/${id}/reject`,
        token,
        body: { reason_code: 'SUSPECTED_FRAUD', reason },
      });
      expect(answer.body.withdrawal, JSON.stringify(answer.body)).toMatchObject({ rejected_note: reason });
    };
    const erased = await approved();
    const other = await approved();
    await reject(erased.id, 'Three accounts, one device.');
    await reject(other.id, 'The account name does not match.');
    const noteOf = async (id: string) =>
      (
        await t.service.db
          .selectFrom('withdrawals')
          .select('rejected_note')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).rejected_note;
    const listed = async () =>
      (
        (await t.inject({ url: '/api/v1/admin/withdrawals?status=rejected&limit=200', token })).body
          .withdrawals as { id: string; rejected_note: string | null }[]
      ).filter((w) => w.id === erased.id || w.id === other.id);

    await identity.erase(erased.user.id);
    expect(await noteOf(erased.id)).toBeNull();
    expect(await noteOf(other.id)).toBe('The account name does not match.');
    expect(await listed()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: erased.id, rejected_note: null }),
        expect.objectContaining({ id: other.id, rejected_note: 'The account name does not match.' }),
      ]),
    );
    // The rejection itself stays (a finance record): its status and code, not the words.
    expect(await row(erased.id)).toMatchObject({ status: 'rejected', reason_code: 'SUSPECTED_FRAUD' });
    await identity.erase(erased.user.id);
    expect(await noteOf(erased.id)).toBeNull();
  });

  it("cancels a withdrawal requested before its user's erasure once the ledger holds it: the hold released once", async () => {
    const { id, user, hold } = await requested();
    await identity.erase(user.id);
    expect((await row(id)).status).toBe('requested');
    await hold();
    expect((await row(id)).status).toBe('cancelled');
    await send();
    expect(await t.written('payouts.withdrawal.cancelled.v1', 'withdrawal_id', id)).toHaveLength(1);
    expect(asked(id)).toBe(0);
  });

  it("never hands PayPal a withdrawal its user's erasure failed while the sender was reading its details", async () => {
    const { id, methodId, user } = await approved();
    const { db } = t.service;
    const { encrypted_details: original } = await db
      .selectFrom('payout_methods')
      .select('encrypted_details')
      .where('id', '=', methodId)
      .executeTakeFirstOrThrow();
    const seal = (details: Buffer) =>
      db
        .updateTable('payout_methods')
        .set({ encrypted_details: details })
        .where('id', '=', methodId)
        .execute();
    await seal(Buffer.from('damaged'));
    await send();
    expect(await row(id)).toMatchObject({ status: 'processing', sent_at: null });
    await seal(Buffer.from(original!));
    later(HOUR);
    // The erasure lands after the sender read the details, just before it marks the payout sent.
    let erased = false;
    const eraseFirst = async () => {
      if (erased) return;
      erased = true;
      await identity.erase(user.id);
    };
    const racing = new Proxy(db, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'updateTable')
          return (table: 'withdrawals') => {
            const builder = target.updateTable(table);
            return table === 'withdrawals' ? runningFirst(builder, eraseFirst) : builder;
          };
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    await sendApproved({ ...quiet(), db: racing });
    expect(erased).toBe(true);
    expect(await row(id)).toMatchObject({ status: 'failed', reason_code: 'ACCOUNT_ERASED', sent_at: null });
    expect(asked(id)).toBe(0);
    expect(await told(id)).toEqual({ failed: 1, completed: 0 });
  });
});

describe('telling a user their withdrawals are on hold while they are suspended (frozen, unfrozen)', () => {
  type HoldType = 'payouts.withdrawal.frozen.v1' | 'payouts.withdrawal.unfrozen.v1';
  /** What payouts announced of a user's withdrawals going on hold and off it. */
  const holds = async (userId: string) => {
    const of = (type: HoldType) => t.written(type, 'user_id', userId);
    return {
      frozen: await of('payouts.withdrawal.frozen.v1'),
      unfrozen: await of('payouts.withdrawal.unfrozen.v1'),
    };
  };
  const ids = (events: { data: { withdrawal_id: string } }[]) =>
    events.map((e) => e.data.withdrawal_id).sort();
  /**
   * Identity's consumer handles its stream in order: once it has handled another event delivered
   * after them, what was redelivered before it was handled too (or skipped as a duplicate).
   */
  const identityCaughtUp = () => t.fixtures.contributor();

  /** Withdrawals a test leaves waiting: cancelled after it, or the sender would take them later. */
  const leftOpen: { id: string; token: string }[] = [];
  afterEach(async () => {
    for (const { id, token } of leftOpen.splice(0)) {
      const cancelled = await t.inject({ method: 'POST', url: `/api/v1/withdrawals/${id}/cancel`, token });
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    }
  });

  it('announces each withdrawal a suspension puts on hold once, and each the reinstatement takes off it once; redeliveries nothing', async () => {
    const { id: approvedId, user, methodId } = await approved(2_500);
    const reviewing = await requestedBy(user, methodId, 1_000);
    await reviewing.hold();
    const refused = await requestedBy(user, methodId, 700);
    await refused.hold();
    // Not held by the ledger yet: nothing waits on the user's account.
    const late = await requestedBy(user, methodId, 600);

    const suspension = foreignEvent('identity.user.suspended.v1', {
      user_id: user.id,
      reason_code: 'FRAUD_REVIEW',
    });
    await t.deliver(consumerNames.identity, suspension);
    await t.deliver(consumerNames.identity, suspension, randomUUID()); // again, under a new message id
    await identity.suspend(user.id); // suspended again by another event: no change
    await identityCaughtUp();
    let told = await holds(user.id);
    expect(ids(told.frozen)).toEqual([approvedId, reviewing.id, refused.id].sort());
    expect(told.unfrozen).toEqual([]);
    for (const event of told.frozen) {
      expect(event).toMatchObject({ subject: event.data.withdrawal_id, causationid: suspension.id });
      expect(event.data).toMatchObject({ user_id: user.id, reason_code: 'ACCOUNT_SUSPENDED' });
    }
    expect(told.frozen.find((e) => e.data.withdrawal_id === approvedId)?.data.amount).toEqual({
      amount: 2_500,
      currency: 'USD',
    });

    // The ledger holds the last one while its user is suspended: on hold from then.
    await late.hold();
    await t.deliver(consumerNames.ledger, late.holdEvent, randomUUID()); // again
    // One refused while on hold: its rejection says so; no hold of it is lifted later.
    const rejected = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/withdrawals/${refused.id}/reject`,
      token: await admin(),
      body: { reason_code: 'SUSPECTED_FRAUD' },
    });
    expect(rejected.body.withdrawal?.status, JSON.stringify(rejected.body)).toBe('rejected');
    told = await holds(user.id);
    expect(ids(told.frozen)).toEqual([approvedId, reviewing.id, refused.id, late.id].sort());
    expect(told.frozen.find((e) => e.data.withdrawal_id === late.id)).toMatchObject({
      causationid: late.holdEvent.id,
      data: { amount: { amount: 600, currency: 'USD' }, reason_code: 'ACCOUNT_SUSPENDED' },
    });

    const reinstatement = foreignEvent('identity.user.reinstated.v1', { user_id: user.id });
    await t.deliver(consumerNames.identity, reinstatement);
    await t.deliver(consumerNames.identity, reinstatement, randomUUID());
    await identity.reinstate(user.id); // reinstated again: no change
    await identityCaughtUp();
    told = await holds(user.id);
    expect(ids(told.unfrozen)).toEqual([approvedId, reviewing.id, late.id].sort());
    for (const event of told.unfrozen) {
      expect(event).toMatchObject({ subject: event.data.withdrawal_id, causationid: reinstatement.id });
      expect(event.data.reason_code).toBe('ACCOUNT_SUSPENDED');
    }
    expect(told.frozen).toHaveLength(4);
    leftOpen.push(...[approvedId, reviewing.id, late.id].map((id) => ({ id, token: user.token })));

    // Replayed once the inbox forgot them (pruned, or a consumer reset): older than what is recorded.
    await t.service.db
      .deleteFrom('inbox')
      .where('event_id', 'in', [suspension.id, reinstatement.id])
      .execute();
    await t.deliver(consumerNames.identity, suspension, randomUUID());
    await t.deliver(consumerNames.identity, reinstatement, randomUUID());
    told = await holds(user.id);
    expect([told.frozen.length, told.unfrozen.length]).toEqual([4, 3]);
    const mine = await t.inject({ url: `/api/v1/withdrawals/${approvedId}`, token: user.token });
    expect(mine.body.withdrawal).toMatchObject({ status: 'approved', held_reason: null });
  });

  it('announces nothing for a user with no withdrawal waiting for approval or sending', async () => {
    const idle = await t.fixtures.contributor();
    const { id: out, user: paying } = await approved();
    await send();
    expect((await row(out)).status).toBe('processing');
    for (const user of [idle, paying]) {
      await identity.suspend(user.id);
      await identity.reinstate(user.id);
    }
    await identityCaughtUp();
    for (const user of [idle, paying]) expect(await holds(user.id)).toEqual({ frozen: [], unfrozen: [] });
  });

  it('changes nothing on an older suspension handled after the reinstatement that followed it', async () => {
    const { id, user } = await approved();
    const suspension = {
      ...foreignEvent('identity.user.suspended.v1', { user_id: user.id, reason_code: 'FRAUD_REVIEW' }),
      time: new Date(Date.now() - 60_000).toISOString(),
    };
    await identity.reinstate(user.id);
    await t.deliver(consumerNames.identity, suspension);
    expect(await holds(user.id)).toEqual({ frozen: [], unfrozen: [] });
    leftOpen.push({ id, token: user.token });
    const mine = await t.inject({ url: `/api/v1/withdrawals/${id}`, token: user.token });
    expect(mine.body.withdrawal).toMatchObject({ status: 'approved', held_reason: null });
  });

  it("lifts no hold of a suspended user's withdrawal ended by their erasure: its cancellation says it", async () => {
    const { id, user } = await approved();
    await identity.suspend(user.id);
    await identity.erase(user.id);
    expect((await row(id)).status).toBe('cancelled');
    const told = await holds(user.id);
    expect([ids(told.frozen), told.unfrozen]).toEqual([[id], []]);
    expect(await t.written('payouts.withdrawal.cancelled.v1', 'withdrawal_id', id)).toHaveLength(1);
  });

  it('announces the hold of a withdrawal the ledger holds while its user is being suspended', async () => {
    const { id, user } = await requested(1_500);
    const holdPlaced = foreignEvent('ledger.withdrawal.hold-placed.v1', {
      withdrawal_id: id,
      user_id: user.id,
      amount: { amount: 1_500, currency: 'USD' },
      transfer_id: randomUUID(),
    });
    // The ledger's answer is applied (the withdrawal now waits for approval, its user still active
    // as far as it can see) and its transaction is held open while identity's suspension arrives.
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    let applied!: () => void;
    const wasApplied = new Promise<void>((resolve) => (applied = resolve));
    const ledger = t.service.db.transaction().execute(async (trx) => {
      await ledgerAnswered(trx, holdPlaced, { now, log: silent });
      applied();
      await committing;
    });
    await wasApplied;
    const suspending = identity.suspend(user.id);
    // Long enough for a suspension that did not wait for the user's lock to commit.
    await new Promise((resolve) => setTimeout(resolve, 500));
    commit();
    await ledger;
    await suspending;
    const told = await holds(user.id);
    expect(ids(told.frozen)).toEqual([id]);
    expect((await row(id)).status).toBe('pending_review');
    leftOpen.push({ id, token: user.token });
  });
});

describe('reconciling a parked payout by hand (POST /api/v1/admin/withdrawals/:id/reconcile)', () => {
  it('records as PayPal paid it a payout sent but never named whose user was erased: the hold posted once, the parked item cleared, the same request answered again', async () => {
    paypal.nextItem = [{ status: 'SUCCESS' }];
    const { id, user } = await approved();
    const batchId = await sendTimingOut(id);
    // Erased: the details are gone, nothing is left to ask PayPal with. Parked, hold kept.
    await identity.erase(user.id);
    later(HOUR);
    await send();
    expect(await row(id)).toMatchObject({ status: 'processing', external_transaction_id: null });
    expect((await parkedForReconciliation()).map((p) => p.item)).toContain(id);
    // A retry asks again and parks again; paid by hand is for the manual provider only.
    expect((await retryParked(id)).status).toBe(200);
    later(HOUR);
    await send();
    expect((await parkedForReconciliation()).map((p) => p.item)).toContain(id);
    const byHand = await t.inject({
      method: 'PUT',
      url: `/api/v1/withdrawals/${id}/process`,
      token: await admin(),
      body: { status: 'completed', external_transaction_id: batchId },
    });
    expect([byHand.status, byHand.body.code]).toEqual([409, 'WITHDRAWAL_NOT_MANUAL']);
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });

    // The operator finds PayPal's payout and records it.
    const note = 'Checked in the PayPal dashboard by Jane Operator: SUCCESS';
    const body = { outcome: 'completed', provider_reference: batchId, note };
    const token = await admin();
    const first = await reconcile(id, body, token);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.withdrawal).toMatchObject({
      status: 'completed',
      external_transaction_id: batchId,
      reason_code: null,
    });
    expect(first.body.reconciliation).toMatchObject({ outcome: 'completed', provider_reference: batchId });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect((await parkedForReconciliation()).map((p) => p.item)).not.toContain(id);
    // The same event as PayPal's own answer, with nothing of the operator's words or the reference.
    const [completed] = await t.written('payouts.withdrawal.completed.v1', 'withdrawal_id', id);
    expect(Object.keys(completed!.data).sort()).toEqual(['amount', 'provider', 'user_id', 'withdrawal_id']);
    expect(completed!.data.provider).toBe('paypal');
    expect(JSON.stringify(completed)).not.toContain(batchId);
    expect(JSON.stringify(completed)).not.toContain('Jane');

    // The same request again: the same answer, nothing moved.
    const again = await reconcile(id, body, token);
    expect([again.status, again.body]).toEqual([200, first.body]);
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    // Another outcome, or another reference: refused.
    for (const other of [
      { outcome: 'failed', provider_reference: batchId },
      { outcome: 'completed', provider_reference: 'ANOTHER-BATCH' },
    ]) {
      const refused = await reconcile(id, other);
      expect([refused.status, refused.body.code]).toEqual([409, 'WITHDRAWAL_ALREADY_RECONCILED']);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    expect((await retryParked(id)).status).toBe(404);
    later(HOUR);
    await send();
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    expect(paypal.payoutsCreated).toBe(1);
  });

  it('records a parked payout PayPal says failed: the hold released once; refuses what is not parked, a bad request and a non-admin', async () => {
    const max = t.config.PAYOUTS_MAX_ATTEMPTS;
    paypal.nextItem = [{ status: 'RETURNED' }];
    const { id } = await approved();
    await send();
    const { external_transaction_id: batchId } = await row(id);
    paypal.fail('batch', 503, { times: max });
    for (let run = 1; run <= max; run += 1) {
      later(HOUR);
      await send();
    }
    expect((await parkedForReconciliation()).map((p) => p.item)).toContain(id);

    // One the sender still follows (pending at PayPal), one not sent yet, one nobody has.
    paypal.nextItem = [{ status: 'PENDING' }];
    const following = (await approved()).id;
    await send();
    expect((await row(following)).status).toBe('processing');
    const waiting = (await approved()).id;
    const body = { outcome: 'failed', provider_reference: batchId };
    for (const [other, status, code] of [
      [following, 409, 'WITHDRAWAL_NOT_PARKED'],
      [waiting, 409, 'WITHDRAWAL_NOT_RECONCILED'],
      [randomUUID(), 404, 'WITHDRAWAL_NOT_FOUND'],
    ] as const) {
      const refused = await reconcile(other, body);
      expect([refused.status, refused.body.code]).toEqual([status, code]);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    for (const bad of [
      { outcome: 'paid', provider_reference: batchId },
      { outcome: 'failed' },
      { outcome: 'failed', provider_reference: 'two words' },
      { outcome: 'failed', provider_reference: batchId, amount: 2_500 },
    ]) {
      const refused = await reconcile(id, bad);
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    const contributor = await t.fixtures.contributor();
    expect((await reconcile(id, body, contributor.token)).status).toBe(403);
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });

    const failed = await reconcile(id, body);
    expect(failed.status, JSON.stringify(failed.body)).toBe(200);
    expect(failed.body.withdrawal).toMatchObject({ status: 'failed', reason_code: 'RECONCILED_FAILED' });
    expect(await reconcile(id, body)).toMatchObject({ status: 200, body: failed.body });
    expect(await told(id)).toEqual({ failed: 1, completed: 0 });
    const [event] = await t.written('payouts.withdrawal.failed.v1', 'withdrawal_id', id);
    expect(event!.data.reason_code).toBe('RECONCILED_FAILED');
    expect((await parkedForReconciliation()).map((p) => p.item)).not.toContain(id);
  });

  it('is in the API docs, for admins', async () => {
    const docs = await t.service.app.inject({ url: '/docs/json' });
    const { paths } = docs.json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
    const operation = paths['/api/v1/admin/withdrawals/{id}/reconcile']?.post;
    expect(operation?.tags).toEqual(['admin']);
  });
});

/** `builder`, a query builder, whose execution first runs `first`. */
function runningFirst<T extends object>(builder: T, first: () => Promise<void>): T {
  return new Proxy(builder, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const call = value as (...args: unknown[]) => unknown;
      if (prop === 'execute' || prop === 'executeTakeFirst' || prop === 'executeTakeFirstOrThrow')
        return async (...args: unknown[]) => {
          await first();
          return call.apply(target, args);
        };
      return (...args: unknown[]) => {
        const next = call.apply(target, args);
        return next && typeof next === 'object' ? runningFirst(next, first) : next;
      };
    },
  });
}

describe('notifications from PayPal (its webhook)', () => {
  const listener = '/api/v1/withdrawals/provider-notifications/paypal';
  const post = (delivery: { headers: Record<string, string>; body: string }) =>
    t.inject({ method: 'POST', url: listener, headers: delivery.headers, body: delivery.body });
  const nextLook = async (id: string) =>
    (
      await t.service.db
        .selectFrom('withdrawals')
        .select('next_attempt_at')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).next_attempt_at;

  /** A payout PayPal has held as pending for an hour: its next poll is an hour away. */
  async function pendingForAnHour() {
    paypal.nextItem = [{ status: 'PENDING' }];
    const { id } = await approved();
    await send();
    later(HOUR);
    await send();
    const look = await nextLook(id);
    expect(look!.getTime() - now.getTime()).toBeGreaterThan(30 * 60_000);
    expect(await row(id)).toMatchObject({ status: 'processing' });
    return { id, batchId: (await row(id)).external_transaction_id!, look };
  }

  it("asks PayPal at once about the payout a verified notification names, and completes it from PayPal's answer", async () => {
    const { id, batchId } = await pendingForAnHour();
    const event = paypal.itemEvent(id, 'SUCCEEDED', 'SUCCESS');
    let pulls = 0;
    const unsubscribe = t.service.resources.sender.onPull(() => void pulls++);
    const reply = await post(paypal.delivery(event));
    unsubscribe();
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toEqual({ received: true, woken: 1 });
    // The sender is told to run at once (its worker is off here: `send()` stands for that run).
    expect(pulls).toBe(1);
    expect(paypal.verifications).toEqual({ asked: 1, verified: 1 });
    expect((await nextLook(id))!.getTime()).toBeLessThanOrEqual(now.getTime());
    const before = asked(id, batchId);
    // No time passes: the notification made it due.
    await send();
    expect(asked(id, batchId)).toBe(before + 1);
    expect(await row(id)).toMatchObject({ status: 'completed' });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
    // PayPal sends an event again when unsure it arrived: taken, nothing more happens.
    const again = await post(paypal.delivery(event));
    expect(again.body).toEqual({ received: true, woken: 0 });
    expect(await told(id)).toEqual({ failed: 0, completed: 1 });
  });

  it('moves nothing on what the notification says: a payout PayPal still holds stays pending', async () => {
    const { id } = await pendingForAnHour();
    // The event says SUCCEEDED, but PayPal, asked, still holds it as pending.
    const delivery = paypal.delivery(paypal.itemEvent(id, 'SUCCEEDED', 'SUCCESS'));
    paypal.setItem(id, 'PENDING');
    expect((await post(delivery)).body).toEqual({ received: true, woken: 1 });
    await send();
    expect(await row(id)).toMatchObject({ status: 'processing' });
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });
  });

  it('refuses a notification PayPal did not send or that was changed on the way (400 NOTIFICATION_UNVERIFIED), and nothing moves', async () => {
    const { id, look } = await pendingForAnHour();
    const event = paypal.itemEvent(id, 'FAILED', 'FAILED');
    const forged = await post(paypal.delivery(event, { forged: true }));
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe('NOTIFICATION_UNVERIFIED');
    const signed = paypal.delivery(event);
    const changed = await post({ ...signed, body: signed.body.replace('FAILED', 'SUCCESS') });
    expect(changed.status).toBe(400);
    expect(changed.body.code).toBe('NOTIFICATION_UNVERIFIED');
    // Without PayPal's transmission headers PayPal is not even asked.
    const { 'paypal-transmission-sig': _sig, ...unsigned } = paypal.delivery(event).headers;
    const asked = paypal.verifications.asked;
    const bare = await post({ headers: unsigned, body: JSON.stringify(event) });
    expect(bare.status).toBe(400);
    expect(bare.body.code).toBe('NOTIFICATION_UNVERIFIED');
    expect(paypal.verifications.asked).toBe(asked);
    expect(paypal.verifications.verified).toBe(0);
    expect(await nextLook(id)).toEqual(look);
    await send();
    expect(await row(id)).toMatchObject({ status: 'processing' });
    expect(await told(id)).toEqual({ failed: 0, completed: 0 });
  });

  it('answers 503 PROVIDER_UNAVAILABLE when PayPal cannot be asked (PayPal sends it again), and nothing moves', async () => {
    const { id, look } = await pendingForAnHour();
    paypal.fail('verify', 503);
    const reply = await post(paypal.delivery(paypal.itemEvent(id, 'SUCCEEDED', 'SUCCESS')));
    expect(reply.status).toBe(503);
    expect(reply.body.code).toBe('PROVIDER_UNAVAILABLE');
    expect(await nextLook(id)).toEqual(look);
  });

  it('leaves alone a payout whose next look is within a send lease, and events about nothing of ours', async () => {
    paypal.nextItem = [{ status: 'PENDING' }];
    const { id } = await approved();
    await send();
    const look = await nextLook(id);
    // Just sent: its next look is soon, as a send under way would hold it.
    expect(look!.getTime() - now.getTime()).toBeLessThan(t.config.PAYOUTS_SEND_LEASE_MS);
    let pulls = 0;
    const unsubscribe = t.service.resources.sender.onPull(() => void pulls++);
    expect((await post(paypal.delivery(paypal.itemEvent(id, 'SUCCEEDED', 'SUCCESS')))).body).toEqual({
      received: true,
      woken: 0,
    });
    unsubscribe();
    expect(pulls).toBe(0);
    expect(await nextLook(id)).toEqual(look);
    const other = {
      id: 'WH-1',
      event_type: 'CHECKOUT.ORDER.APPROVED',
      resource: { id: randomUUID(), sender_batch_id: id },
    };
    expect((await post(paypal.delivery(other))).body).toEqual({ received: true, woken: 0 });
  });

  it('answers 404 NOTIFICATIONS_OFF without a webhook id, and 400 to a body that is no PayPal event', async () => {
    const body = paypal.delivery({ id: 'WH-2', event_type: 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED', resource: {} });
    const notEvent = await post({ ...body, body: JSON.stringify({ id: 'WH-3' }) });
    expect(notEvent.status).toBe(400);
    t.service.resources.provider = paypalProvider({
      baseUrl: paypal.url,
      clientId: paypal.clientId,
      clientSecret: paypal.clientSecret,
      logger: silent,
    });
    try {
      const off = await post(body);
      expect(off.status).toBe(404);
      expect(off.body.code).toBe('NOTIFICATIONS_OFF');
    } finally {
      t.service.resources.provider = provider;
    }
  });
});
