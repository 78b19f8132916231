import { randomUUID } from 'node:crypto';
import { failRowWrites, foreignEvent, testPrefix, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLedger, type TestLedger } from '../../../ledger/src/messaging/testing.ts';
import { paypalProvider } from '../providers/paypal.ts';
import type { PayoutOrder, PayoutProvider, PayoutStatus } from '../providers/provider.ts';
import { startFakePayPal } from '../providers/testing/fake-paypal.ts';
import { payoutsWorkers } from '../service.ts';
import { startTestPayouts, type TestPayouts, type TestUser } from '../testing/harness.ts';

// Payouts and the real ledger on one bus: every step of the saga goes through NATS both ways.
let ledger: TestLedger;
let payouts: TestPayouts;
const prefix = testPrefix();

/** A provider the test steers: answers per withdrawal, counting what was sent. */
const scripted = {
  answers: new Map<string, PayoutStatus[]>(),
  sent: new Map<string, number>(),
};
const provider: PayoutProvider = {
  name: 'scripted',
  manual: false,
  async send(order: PayoutOrder) {
    scripted.sent.set(order.withdrawalId, (scripted.sent.get(order.withdrawalId) ?? 0) + 1);
    return (
      scripted.answers.get(order.withdrawalId)?.shift() ?? {
        kind: 'completed',
        externalId: `tx-${order.withdrawalId}`,
      }
    );
  },
  async status(order: PayoutOrder) {
    return (
      scripted.answers.get(order.withdrawalId)?.shift() ?? {
        kind: 'completed',
        externalId: `tx-${order.withdrawalId}`,
      }
    );
  },
};

beforeAll(async () => {
  ledger = await startTestLedger({ NATS_PREFIX: prefix });
  payouts = await startTestPayouts(
    { NATS_PREFIX: prefix, PAYOUTS_PROVIDER: 'manual' },
    { workers: { [payoutsWorkers.autoApprove]: false, [payoutsWorkers.sender]: false } },
  );
});

afterAll(async () => {
  await payouts?.stop();
  await ledger?.stop();
});

/** A contributor with `amount` in their wallet (a bonus from the promotions account). */
async function earner(amount: number): Promise<TestUser> {
  const user = await payouts.fixtures.contributor();
  const bonus = foreignEvent('engagement.bonus.awarded.v1', {
    bonus_id: randomUUID(),
    user_id: user.id,
    amount: { amount, currency: 'USD' },
    reason_code: 'WELCOME',
  });
  await ledger.deliver('ledger-engagement', bonus);
  await ledger.outcomes('ledger.promotion.paid.v1', bonus.id);
  return user;
}

async function wallet(userId: string) {
  await ledger.projected();
  const token = await ledger.token({ sub: userId, role: 'contributor' });
  const reply = await ledger.inject({ url: '/api/v1/wallet', token });
  return {
    available: reply.body.available.amount as number,
    held: reply.body.held.amount as number,
    withdrawn: reply.body.total_withdrawn.amount as number,
  };
}

async function method(user: TestUser): Promise<string> {
  const reply = await payouts.inject({
    method: 'POST',
    url: '/api/v1/payout-methods',
    token: user.token,
    body: { type: 'paypal', email: `payee-${randomUUID().slice(0, 8)}@example.com` },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.method.id as string;
}

const withdraw = (user: TestUser, methodId: string, amount: number, key = randomUUID()) =>
  payouts.inject({
    method: 'POST',
    url: '/api/v1/withdrawals',
    token: user.token,
    key,
    body: { amount: { amount, currency: 'USD' }, method_id: methodId },
  });

const statusOf = async (id: string) =>
  (
    await payouts.service.db
      .selectFrom('withdrawals')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).status;

const until = (id: string, status: string) =>
  waitFor(async () => (await statusOf(id)) === status, {
    what: `withdrawal ${id} to be ${status}`,
    timeoutMs: 15_000,
  });

const admin = () => payouts.token({ sub: randomUUID(), role: 'admin' });

describe('the withdrawal saga with the ledger', () => {
  it('holds, is approved and paid by hand, and the wallet shows it withdrawn', async () => {
    const user = await earner(10_000);
    const methodId = await method(user);
    const requested = await withdraw(user, methodId, 6_000);
    expect([requested.status, requested.body.withdrawal.status]).toEqual([202, 'requested']);
    const id = requested.body.withdrawal.id as string;
    await until(id, 'pending_review');
    expect(await wallet(user.id)).toMatchObject({ available: 4_000, held: 6_000 });

    const token = await admin();
    const approved = await payouts.inject({
      method: 'POST',
      url: `/api/v1/admin/withdrawals/${id}/approve`,
      token,
    });
    expect(approved.body.withdrawal.status).toBe('approved');
    const processed = await payouts.inject({
      method: 'PUT',
      url: `/api/v1/withdrawals/${id}/process`,
      token,
      body: { status: 'completed', external_transaction_id: 'BANK-REF-42' },
    });
    expect(processed.body.withdrawal).toMatchObject({
      status: 'completed',
      external_transaction_id: 'BANK-REF-42',
    });
    await waitFor(async () => (await wallet(user.id)).withdrawn === 6_000, {
      what: 'the ledger to settle',
      timeoutMs: 15_000,
    });
    expect(await wallet(user.id)).toEqual({ available: 4_000, held: 0, withdrawn: 6_000 });
    const events = (await payouts.written('payouts.withdrawal.processing.v1', 'withdrawal_id', id)).length;
    expect(events).toBe(1);
  });

  it('refuses a withdrawal the wallet cannot cover: rejected, nothing held', async () => {
    const user = await earner(1_000);
    const requested = await withdraw(user, await method(user), 5_000);
    const id = requested.body.withdrawal.id as string;
    await until(id, 'rejected');
    const read = await payouts.inject({ url: `/api/v1/withdrawals/${id}`, token: user.token });
    expect(read.body.withdrawal).toMatchObject({ status: 'rejected', reason_code: 'INSUFFICIENT_FUNDS' });
    expect(await wallet(user.id)).toMatchObject({ available: 1_000, held: 0 });
  });

  it('holds exactly one of two withdrawals racing for one balance', async () => {
    const user = await earner(8_000);
    const methodId = await method(user);
    const [a, b] = await Promise.all([withdraw(user, methodId, 6_000), withdraw(user, methodId, 6_000)]);
    const ids = [a.body.withdrawal.id as string, b.body.withdrawal.id as string];
    await waitFor(async () => (await Promise.all(ids.map(statusOf))).every((s) => s !== 'requested'), {
      what: 'both answered',
      timeoutMs: 15_000,
    });
    expect((await Promise.all(ids.map(statusOf))).sort()).toEqual(['pending_review', 'rejected']);
    expect(await wallet(user.id)).toMatchObject({ available: 2_000, held: 6_000 });
  });

  it('makes one withdrawal of a double click with one key', async () => {
    const user = await earner(8_000);
    const methodId = await method(user);
    const key = randomUUID();
    const [a, b] = await Promise.all([
      withdraw(user, methodId, 5_000, key),
      withdraw(user, methodId, 5_000, key),
    ]);
    const answered = [a, b].filter((r) => r.status === 202);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    for (const reply of answered) expect(reply.body.withdrawal.id).toBe(answered[0]!.body.withdrawal.id);
    for (const reply of [a, b].filter((r) => r.status !== 202)) expect(reply.status).toBe(409);
    const mine = await payouts.inject({ url: '/api/v1/withdrawals/me', token: user.token });
    expect(mine.body.withdrawals).toHaveLength(1);
  });

  it('releases the hold when the provider fails for good, after retrying what may pass', async () => {
    payouts.service.resources.provider = provider;
    try {
      const user = await earner(9_000);
      const requested = await withdraw(user, await method(user), 7_000);
      const id = requested.body.withdrawal.id as string;
      await until(id, 'pending_review');
      scripted.answers.set(id, [
        { kind: 'retry', reason: 'HTTP 503' },
        { kind: 'failed', reasonCode: 'RECEIVER_UNREGISTERED', detail: 'no such account' },
      ]);
      await payouts.inject({
        method: 'POST',
        url: `/api/v1/admin/withdrawals/${id}/approve`,
        token: await admin(),
      });
      const { sendApproved } = await import('./jobs.ts');
      const context = payouts.service;
      await sendApproved(context);
      expect(await statusOf(id)).toBe('processing');
      await waitFor(
        async () => {
          await sendApproved(context);
          return (await statusOf(id)) === 'failed';
        },
        { what: 'the retry', timeoutMs: 10_000 },
      );
      const read = await payouts.inject({ url: `/api/v1/withdrawals/${id}`, token: user.token });
      expect(read.body.withdrawal).toMatchObject({ status: 'failed', reason_code: 'RECEIVER_UNREGISTERED' });
      await waitFor(async () => (await wallet(user.id)).held === 0, {
        what: 'the hold released',
        timeoutMs: 15_000,
      });
      expect(await wallet(user.id)).toMatchObject({ available: 9_000, withdrawn: 0 });
    } finally {
      payouts.service.resources.provider = (await import('../providers/provider.ts')).manualProvider;
    }
  });

  it('goes on past a withdrawal whose payout method cannot be read, and fails it METHOD_UNREADABLE after retrying', async () => {
    payouts.service.resources.provider = provider;
    try {
      const damaged = await earner(8_000);
      const sound = await earner(8_000);
      const damagedMethod = await method(damaged);
      const first = (await withdraw(damaged, damagedMethod, 6_000)).body.withdrawal.id as string;
      const second = (await withdraw(sound, await method(sound), 6_000)).body.withdrawal.id as string;
      await until(first, 'pending_review');
      await until(second, 'pending_review');
      const token = await admin();
      for (const id of [first, second])
        await payouts.inject({ method: 'POST', url: `/api/v1/admin/withdrawals/${id}/approve`, token });
      // One byte of the sealed details changed: the cipher's tag no longer matches.
      const { db } = payouts.service;
      const row = await db
        .selectFrom('payout_methods')
        .select('encrypted_details')
        .where('id', '=', damagedMethod)
        .executeTakeFirstOrThrow();
      const sealed = Buffer.from(row.encrypted_details!);
      sealed.writeUInt8(sealed.readUInt8(sealed.length - 1) ^ 0xff, sealed.length - 1);
      await db
        .updateTable('payout_methods')
        .set({ encrypted_details: sealed })
        .where('id', '=', damagedMethod)
        .execute();

      const { sendApproved } = await import('./jobs.ts');
      expect(await sendApproved(payouts.service)).toBe(2);
      expect(await statusOf(first)).toBe('processing');
      expect(await statusOf(second)).toBe('completed');
      await waitFor(
        async () => {
          await sendApproved(payouts.service);
          return (await statusOf(first)) === 'failed';
        },
        { what: 'the retries to run out', timeoutMs: 10_000 },
      );
      const attempts = await db
        .selectFrom('withdrawals')
        .select('attempts')
        .where('id', '=', first)
        .executeTakeFirstOrThrow();
      expect(attempts.attempts).toBe(payouts.service.config.PAYOUTS_MAX_ATTEMPTS - 1);
      const read = await payouts.inject({ url: `/api/v1/withdrawals/${first}`, token: damaged.token });
      expect(read.body.withdrawal).toMatchObject({ status: 'failed', reason_code: 'METHOD_UNREADABLE' });
      expect(scripted.sent.get(first)).toBeUndefined();
      await waitFor(async () => (await wallet(damaged.id)).held === 0, {
        what: 'the hold released',
        timeoutMs: 15_000,
      });
      expect(await wallet(damaged.id)).toMatchObject({ available: 8_000, withdrawn: 0 });
    } finally {
      payouts.service.resources.provider = (await import('../providers/provider.ts')).manualProvider;
    }
  });

  it('fails a payout the provider refused in words our events cannot carry as PROVIDER_REFUSED, and goes on', async () => {
    payouts.service.resources.provider = provider;
    try {
      const refused = await earner(8_000);
      const paid = await earner(8_000);
      const first = (await withdraw(refused, await method(refused), 6_000)).body.withdrawal.id as string;
      const second = (await withdraw(paid, await method(paid), 6_000)).body.withdrawal.id as string;
      await until(first, 'pending_review');
      await until(second, 'pending_review');
      scripted.answers.set(first, [
        { kind: 'failed', reasonCode: 'Receiver: account not found!', detail: 'no such account' },
      ]);
      const token = await admin();
      for (const id of [first, second])
        await payouts.inject({ method: 'POST', url: `/api/v1/admin/withdrawals/${id}/approve`, token });

      const { sendApproved } = await import('./jobs.ts');
      expect(await sendApproved(payouts.service)).toBe(2);
      const read = await payouts.inject({ url: `/api/v1/withdrawals/${first}`, token: refused.token });
      expect(read.body.withdrawal).toMatchObject({ status: 'failed', reason_code: 'PROVIDER_REFUSED' });
      expect(await statusOf(second)).toBe('completed');
      expect(scripted.sent.get(first)).toBe(1);
      await waitFor(async () => (await wallet(refused.id)).held === 0, {
        what: 'the hold released',
        timeoutMs: 15_000,
      });
    } finally {
      payouts.service.resources.provider = (await import('../providers/provider.ts')).manualProvider;
    }
  });

  it('goes on past a withdrawal whose sending fails, and sends it at a later run', async () => {
    payouts.service.resources.provider = provider;
    const { db } = payouts.service;
    try {
      const stuck = await earner(8_000);
      const paid = await earner(8_000);
      const first = (await withdraw(stuck, await method(stuck), 6_000)).body.withdrawal.id as string;
      const second = (await withdraw(paid, await method(paid), 6_000)).body.withdrawal.id as string;
      await until(first, 'pending_review');
      await until(second, 'pending_review');
      const token = await admin();
      for (const id of [first, second])
        await payouts.inject({ method: 'POST', url: `/api/v1/admin/withdrawals/${id}/approve`, token });
      // A fault of ours in the first one's move to processing, injected by the database itself.
      const restore = await failRowWrites(db, {
        table: 'withdrawals',
        column: 'id',
        value: first,
        on: 'update',
      });
      const { sendApproved } = await import('./jobs.ts');
      try {
        expect(await sendApproved(payouts.service)).toBe(1);
        expect(await statusOf(first)).toBe('approved');
        expect(await statusOf(second)).toBe('completed');
      } finally {
        await restore();
      }
      expect(await sendApproved(payouts.service)).toBe(1);
      expect(await statusOf(first)).toBe('completed');
      expect(scripted.sent.get(first)).toBe(1);
    } finally {
      payouts.service.resources.provider = (await import('../providers/provider.ts')).manualProvider;
    }
  });

  it('lets exactly one of a cancel and a completion racing win', async () => {
    for (let round = 0; round < 3; round++) {
      const user = await earner(6_000);
      const requested = await withdraw(user, await method(user), 5_000);
      const id = requested.body.withdrawal.id as string;
      await until(id, 'pending_review');
      const token = await admin();
      await payouts.inject({ method: 'POST', url: `/api/v1/admin/withdrawals/${id}/approve`, token });
      const [cancel, complete] = await Promise.all([
        payouts.inject({ method: 'POST', url: `/api/v1/withdrawals/${id}/cancel`, token: user.token }),
        payouts.inject({
          method: 'PUT',
          url: `/api/v1/withdrawals/${id}/process`,
          token,
          body: { status: 'completed', external_transaction_id: `REF-${round}` },
        }),
      ]);
      expect([cancel.status, complete.status].sort()).toEqual([200, 409]);
      const final = await statusOf(id);
      expect(['cancelled', 'completed']).toContain(final);
      const expected =
        final === 'completed'
          ? { held: 0, withdrawn: 5_000, available: 1_000 }
          : { held: 0, withdrawn: 0, available: 6_000 };
      await waitFor(async () => (await wallet(user.id)).held === 0, {
        what: 'the ledger to follow',
        timeoutMs: 15_000,
      });
      expect(await wallet(user.id)).toEqual(expected);
    }
  });

  it('survives a restart of payouts between each step', async () => {
    const user = await earner(5_000);
    const methodId = await method(user);
    const requested = await withdraw(user, methodId, 5_000);
    const id = requested.body.withdrawal.id as string;
    // Down while the ledger answers: the durable consumer hands the answer over after the restart.
    await payouts.restart();
    await until(id, 'pending_review');
    const token = await admin();
    await payouts.inject({ method: 'POST', url: `/api/v1/admin/withdrawals/${id}/approve`, token });
    await payouts.restart();
    const processed = await payouts.inject({
      method: 'PUT',
      url: `/api/v1/withdrawals/${id}/process`,
      token: await admin(),
      body: { status: 'completed', external_transaction_id: 'AFTER-RESTART' },
    });
    expect(processed.body.withdrawal.status).toBe('completed');
    await payouts.restart();
    await waitFor(async () => (await wallet(user.id)).withdrawn === 5_000, {
      what: 'the ledger to settle',
      timeoutMs: 15_000,
    });
    expect(await wallet(user.id)).toEqual({ available: 0, held: 0, withdrawn: 5_000 });
    expect(await payouts.written('payouts.withdrawal.completed.v1', 'withdrawal_id', id)).toHaveLength(1);
  });

  it('pays through PayPal (a local server speaking its Payouts API): pending, then completed, sent once', async () => {
    const paypal = await startFakePayPal();
    payouts.service.resources.provider = paypalProvider({
      baseUrl: paypal.url,
      clientId: paypal.clientId,
      clientSecret: paypal.clientSecret,
      logger: payouts.service.logger,
    });
    try {
      paypal.nextItem = [{ status: 'PENDING' }, { status: 'SUCCESS' }];
      const user = await earner(3_000);
      const requested = await withdraw(user, await method(user), 2_500);
      const id = requested.body.withdrawal.id as string;
      await until(id, 'pending_review');
      await payouts.inject({
        method: 'POST',
        url: `/api/v1/admin/withdrawals/${id}/approve`,
        token: await admin(),
      });
      const { sendApproved } = await import('./jobs.ts');
      await waitFor(
        async () => {
          await sendApproved(payouts.service);
          return (await statusOf(id)) === 'completed';
        },
        { what: 'PayPal to pay', timeoutMs: 15_000 },
      );
      expect(paypal.payoutsCreated).toBe(1);
      expect(paypal.payoutFor(id)).toMatchObject({
        amount: { value: '25.00', currency: 'USD' },
        recipientType: 'EMAIL',
      });
      await waitFor(async () => (await wallet(user.id)).withdrawn === 2_500, {
        what: 'the ledger to settle',
        timeoutMs: 15_000,
      });
    } finally {
      payouts.service.resources.provider = (await import('../providers/provider.ts')).manualProvider;
      await paypal.close();
    }
  });
});
