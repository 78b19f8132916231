import { randomUUID } from 'node:crypto';
import { ADMIN_SUMMARY_PATH, createLogger, PARK_AFTER_FAILURES } from '@tessera/service-kit';
import { expectAdminsOnly, failRowWrites, foreignEvent } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { payoutsWorkers } from '../service.ts';
import { startTestPayouts, type TestPayouts, type TestUser } from '../testing/harness.ts';
import { autoApprove } from './jobs.ts';

// Approval and the admin's tools, with the ledger's answers delivered by hand.
let t: TestPayouts;
let now = new Date('2030-03-01T09:00:00Z');

beforeAll(async () => {
  t = await startTestPayouts(
    {},
    { clock: () => now, workers: { [payoutsWorkers.autoApprove]: false, [payoutsWorkers.sender]: false } },
  );
});

afterAll(async () => {
  await t?.stop();
});

const methods = new Map<string, string>();

/** A withdrawal of `amount` the ledger held (each user's first method: a second would cool down). */
async function held(user: TestUser, amount = 1_000): Promise<string> {
  if (!methods.has(user.id)) {
    const added = await t.inject({
      method: 'POST',
      url: '/api/v1/payout-methods',
      token: user.token,
      body: { type: 'paypal', email: `p-${randomUUID().slice(0, 6)}@example.com` },
    });
    methods.set(user.id, added.body.method.id as string);
  }
  const requested = await t.inject({
    method: 'POST',
    url: '/api/v1/withdrawals',
    token: user.token,
    key: randomUUID(),
    body: { amount: { amount, currency: 'USD' }, method_id: methods.get(user.id) },
  });
  expect(requested.status, JSON.stringify(requested.body)).toBe(202);
  const id = requested.body.withdrawal.id as string;
  await t.deliver(
    consumerNames.ledger,
    foreignEvent('ledger.withdrawal.hold-placed.v1', {
      withdrawal_id: id,
      user_id: user.id,
      amount: { amount, currency: 'USD' },
      transfer_id: randomUUID(),
    }),
  );
  return id;
}

const statusOf = async (id: string) =>
  (
    await t.service.db
      .selectFrom('withdrawals')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).status;

describe('approval', () => {
  it("approves a trusted contributor's withdrawal by itself after the cooling period, never a suspended one's", async () => {
    const trusted = await t.fixtures.contributor({ trust: 8.5 });
    const ordinary = await t.fixtures.contributor({ trust: 7.9 });
    const frozen = await t.fixtures.contributor({ trust: 9 });
    const ids = { trusted: await held(trusted), ordinary: await held(ordinary), frozen: await held(frozen) };
    await t.deliver(
      consumerNames.identity,
      foreignEvent('identity.user.suspended.v1', { user_id: frozen.id, reason_code: 'FRAUD_REVIEW' }),
    );
    now = new Date(now.getTime() + 71 * 3_600_000);
    await autoApprove(t.service);
    expect(await statusOf(ids.trusted)).toBe('pending_review');
    now = new Date(now.getTime() + 2 * 3_600_000);
    await autoApprove(t.service);
    expect(await statusOf(ids.trusted)).toBe('approved');
    expect(await statusOf(ids.ordinary)).toBe('pending_review');
    expect(await statusOf(ids.frozen)).toBe('pending_review');
    const [approved] = await t.written('payouts.withdrawal.approved.v1', 'withdrawal_id', ids.trusted);
    expect(approved!.data).toMatchObject({ method: 'auto' });
    // An admin cannot approve the suspended user's either.
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const refused = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/withdrawals/${ids.frozen}/approve`,
      token: admin,
    });
    expect([refused.status, refused.body.code]).toEqual([403, 'ACCOUNT_NOT_ACTIVE']);
    const withdrawFrozen = await t.inject({
      method: 'POST',
      url: '/api/v1/withdrawals',
      token: frozen.token,
      key: randomUUID(),
      body: { amount: { amount: 600, currency: 'USD' }, method_id: randomUUID() },
    });
    expect(withdrawFrozen.body.code).toBe('ACCOUNT_NOT_ACTIVE');
  });

  /** The service with a silent logger, for runs whose failures are the point. */
  const quiet = () => ({
    ...t.service,
    logger: createLogger({ name: 'approve-test', level: 'silent', pretty: false }),
  });
  /** A fault of ours in a withdrawal's every update, raised by the database itself. */
  const failApprovalOf = (id: string) =>
    failRowWrites(t.service.db, { table: 'withdrawals', column: 'id', value: id, on: 'update' });

  it('goes on past a withdrawal whose approval fails, and approves it at a later run', async () => {
    const first = await held(await t.fixtures.contributor({ trust: 9 }));
    const second = await held(await t.fixtures.contributor({ trust: 9 }));
    now = new Date(now.getTime() + 73 * 3_600_000);
    // A fault of ours in the first one's approval, injected by the database itself.
    const restore = await failApprovalOf(first);
    try {
      expect(await autoApprove(quiet())).toBeGreaterThanOrEqual(1);
      expect(await statusOf(first)).toBe('pending_review');
      expect(await statusOf(second)).toBe('approved');
      // Operators see it: the failed item is counted for the job, in the service's /metrics.
      const scraped = (await t.service.app.inject({ url: '/metrics' })).body;
      expect(scraped).toMatch(/^tessera_job_item_failures_total\{[^}]*job="auto-approve"[^}]*\} 1$/m);
    } finally {
      await restore();
    }
    await autoApprove(quiet());
    expect(await statusOf(first)).toBe('approved');
  });

  it('parks a withdrawal whose approval keeps failing, lists it to admins, and takes it again once retried', async () => {
    const stuck = await held(await t.fixtures.contributor({ trust: 9 }));
    now = new Date(now.getTime() + 73 * 3_600_000);
    const restore = await failApprovalOf(stuck);
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const parked = async () =>
      (await t.inject({ url: '/api/v1/admin/payouts/parked-items?job=auto-approve', token: admin })).body
        .parked_items as Array<{ item: string; failures: number }>;
    try {
      for (let run = 1; run <= PARK_AFTER_FAILURES; run += 1) {
        expect(await parked()).toEqual([]);
        await autoApprove(quiet());
      }
      expect(await parked()).toMatchObject([{ item: stuck, failures: PARK_AFTER_FAILURES }]);
      // Paged: the one parked item fills a page of one, and no cursor leads to an empty page.
      const list = '/api/v1/admin/payouts/parked-items';
      const one = await t.inject({ url: `${list}?limit=1`, token: admin });
      expect([one.body.parked_items.length, one.body.next_cursor]).toEqual([1, null]);
      expect((await t.inject({ url: `${list}?cursor=not-ours`, token: admin })).status).toBe(400);
      // Parked: the job's query leaves it out, so the runs no longer fail on it.
      const failed = await t.service.db
        .selectFrom('job_item_failures')
        .select('failures')
        .where('item', '=', stuck)
        .executeTakeFirstOrThrow();
      await autoApprove(quiet());
      expect(
        (
          await t.service.db
            .selectFrom('job_item_failures')
            .select('failures')
            .where('item', '=', stuck)
            .executeTakeFirstOrThrow()
        ).failures,
      ).toBe(failed.failures);
      const scraped = (await t.service.app.inject({ url: '/metrics' })).body;
      expect(scraped).toMatch(/^tessera_job_items_parked_total\{[^}]*job="auto-approve"[^}]*\} 1$/m);
    } finally {
      await restore();
    }
    expect(await statusOf(stuck)).toBe('pending_review');
    const contributor = await t.token({ sub: randomUUID(), role: 'contributor' });
    const retry = `/api/v1/admin/payouts/parked-items/auto-approve/${stuck}/retry`;
    expect((await t.inject({ method: 'POST', url: retry, token: contributor })).status).toBe(403);
    const notAnItem = `/api/v1/admin/payouts/parked-items/auto-approve/not-a-uuid/retry`;
    expect((await t.inject({ method: 'POST', url: notAnItem, token: admin })).status).toBe(400);
    // The item as the job keys it (a uuid in lower case), however it is written.
    const upper = `/api/v1/admin/payouts/parked-items/auto-approve/${stuck.toUpperCase()}/retry`;
    expect((await t.inject({ method: 'POST', url: upper, token: admin })).status).toBe(200);
    expect(await parked()).toEqual([]);
    await autoApprove(quiet());
    expect(await statusOf(stuck)).toBe('approved');
    const again = await t.inject({ method: 'POST', url: retry, token: admin });
    expect([again.status, again.body.code]).toEqual([404, 'PARKED_ITEM_NOT_FOUND']);
    const unknownJob = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/payouts/parked-items/no-such-job/${stuck}/retry`,
      token: admin,
    });
    expect(unknownJob.status).toBe(400);
  });

  it('takes a parked withdrawal off the list once an admin approves or rejects it by hand', async () => {
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    /** A withdrawal due for auto-approval whose approval fails until it is parked. */
    const parkedOne = async () => {
      const id = await held(await t.fixtures.contributor({ trust: 9 }));
      now = new Date(now.getTime() + 73 * 3_600_000);
      const restore = await failApprovalOf(id);
      try {
        for (let run = 1; run <= PARK_AFTER_FAILURES; run += 1) await autoApprove(quiet());
      } finally {
        await restore();
      }
      return id;
    };
    const approved = await parkedOne();
    const rejected = await parkedOne();
    const parked = async () =>
      (
        (await t.inject({ url: '/api/v1/admin/payouts/parked-items?job=auto-approve', token: admin })).body
          .parked_items as Array<{ item: string }>
      )
        .map((p) => p.item)
        .filter((item) => item === approved || item === rejected)
        .sort();
    expect(await parked()).toEqual([approved, rejected].sort());

    const byHand = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/withdrawals/${approved}/approve`,
      token: admin,
    });
    expect(byHand.body.withdrawal).toMatchObject({ status: 'approved' });
    expect(await parked()).toEqual([rejected]);
    const refused = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/withdrawals/${rejected}/reject`,
      token: admin,
      body: { reason_code: 'SUSPECTED_FRAUD' },
    });
    expect(refused.body.withdrawal).toMatchObject({ status: 'rejected' });
    expect(await parked()).toEqual([]);
  });

  it("ignores a ledger answer in another currency than the withdrawal's, as one for another amount", async () => {
    const user = await t.fixtures.contributor();
    const method = await t.inject({
      method: 'POST',
      url: '/api/v1/payout-methods',
      token: user.token,
      body: { type: 'paypal', email: `p-${randomUUID().slice(0, 6)}@example.com` },
    });
    const requested = await t.inject({
      method: 'POST',
      url: '/api/v1/withdrawals',
      token: user.token,
      key: randomUUID(),
      body: { amount: { amount: 1_000, currency: 'USD' }, method_id: method.body.method.id },
    });
    const id = requested.body.withdrawal.id as string;
    const holdPlaced = (amount: { amount: number; currency: string }) =>
      t.deliver(
        consumerNames.ledger,
        foreignEvent('ledger.withdrawal.hold-placed.v1', {
          withdrawal_id: id,
          user_id: user.id,
          amount,
          transfer_id: randomUUID(),
        }),
      );
    await holdPlaced({ amount: 1_000, currency: 'EUR' });
    expect(await statusOf(id)).toBe('requested');
    await holdPlaced({ amount: 999, currency: 'USD' });
    expect(await statusOf(id)).toBe('requested');
    await holdPlaced({ amount: 1_000, currency: 'USD' });
    expect(await statusOf(id)).toBe('pending_review');
  });

  it('batch-approves and reports each id on its own; rejects with a reason; exports CSV', async () => {
    const user = await t.fixtures.contributor();
    const first = await held(user, 700);
    const second = await held(user, 800);
    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const rejected = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/withdrawals/${second}/reject`,
      token: admin,
      body: { reason_code: 'SUSPECTED_FRAUD', reason: 'Three accounts, one device.' },
    });
    expect(rejected.body.withdrawal).toMatchObject({
      status: 'rejected',
      reason_code: 'SUSPECTED_FRAUD',
      rejected_note: 'Three accounts, one device.',
    });
    const [event] = await t.written('payouts.withdrawal.rejected.v1', 'withdrawal_id', second);
    expect(event!.data).toMatchObject({ reason_code: 'SUSPECTED_FRAUD' });
    // The note is kept for admins, never told in an event (the whole event, not only its data).
    expect(JSON.stringify(event)).not.toContain('device');
    expect(event!.data).not.toHaveProperty('rejected_note');
    // Admins see it in the queue; a withdrawal never rejected carries none.
    const queue = await t.inject({
      url: '/api/v1/admin/withdrawals?status=rejected&limit=200',
      token: admin,
    });
    expect(queue.status).toBe(200);
    const listed = queue.body.withdrawals as Array<{ id: string; rejected_note: string | null }>;
    expect(listed.find((w) => w.id === second)).toMatchObject({
      rejected_note: 'Three accounts, one device.',
    });
    const waiting = await t.inject({ url: '/api/v1/admin/withdrawals?limit=200', token: admin });
    expect(
      (waiting.body.withdrawals as Array<{ id: string; rejected_note: string | null }>).find(
        (w) => w.id === first,
      ),
    ).toMatchObject({ rejected_note: null });
    // Its user never sees it: not in their withdrawal, nor in their list.
    const own = await t.inject({ url: `/api/v1/withdrawals/${second}`, token: user.token });
    expect(own.status).toBe(200);
    expect(own.body.withdrawal).toMatchObject({ status: 'rejected', reason_code: 'SUSPECTED_FRAUD' });
    expect(own.body.withdrawal).not.toHaveProperty('rejected_note');
    const mine = await t.inject({ url: '/api/v1/withdrawals/me', token: user.token });
    expect(mine.status).toBe(200);
    expect(JSON.stringify(mine.body)).not.toContain('device');
    expect(mine.body.withdrawals[0]).not.toHaveProperty('rejected_note');

    const batch = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/payouts/batch-approve',
      token: admin,
      body: { withdrawal_ids: [first, second, randomUUID()] },
    });
    expect(batch.body).toMatchObject({ approved: 1, failed: 2 });
    expect(batch.body.results.map((r: { ok: boolean; code: string | null }) => [r.ok, r.code])).toEqual([
      [true, null],
      [false, 'WITHDRAWAL_NOT_APPROVED'],
      [false, 'WITHDRAWAL_NOT_FOUND'],
    ]);

    const from = new Date(now.getTime() - 3_600_000).toISOString();
    const to = new Date(now.getTime() + 3_600_000).toISOString();
    const csv = await t.service.app.inject({
      url: `/api/v1/admin/withdrawals/export?from=${from}&to=${to}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toMatch(/^id,user_id,status,amount,currency/);
    expect(lines.some((line) => line.startsWith(`${first},`) && line.includes(',approved,7.00,USD,'))).toBe(
      true,
    );
    expect(lines.some((line) => line.startsWith(`${second},`) && line.includes('SUSPECTED_FRAUD'))).toBe(
      true,
    );
    const contributor = await t.service.app.inject({
      url: `/api/v1/admin/withdrawals/export?from=${from}&to=${to}`,
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(contributor.statusCode).toBe(403);
  });

  it('refuses what the rules refuse, with a clear code and nothing written', async () => {
    const unverified = await t.fixtures.contributor({ verified: false });
    const added = await t.inject({
      method: 'POST',
      url: '/api/v1/payout-methods',
      token: unverified.token,
      body: { type: 'paypal', email: 'someone@example.com' },
    });
    const ask = (user: TestUser, amount: number, methodId: string, key: string | undefined = randomUUID()) =>
      t.inject({
        method: 'POST',
        url: '/api/v1/withdrawals',
        token: user.token,
        ...(key ? { key } : {}),
        body: { amount: { amount, currency: 'USD' }, method_id: methodId },
      });
    expect((await ask(unverified, 1_000, added.body.method.id as string)).body.code).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    const user = await t.fixtures.contributor();
    const method = await t.inject({
      method: 'POST',
      url: '/api/v1/payout-methods',
      token: user.token,
      body: { type: 'paypal', email: 'user@example.com' },
    });
    const methodId = method.body.method.id as string;
    expect((await ask(user, 499, methodId)).body.code).toBe('BELOW_MINIMUM');
    expect((await ask(user, t.config.PAYOUTS_DAILY_LIMIT + 1, methodId)).body.code).toBe(
      'DAILY_LIMIT_EXCEEDED',
    );
    expect((await ask(user, 1_000, randomUUID())).body.code).toBe('METHOD_NOT_FOUND');
    const missingKey = await ask(user, 1_000, methodId, '');
    expect(missingKey.status).toBe(400);
    const company = await t.token({ sub: randomUUID(), role: 'company' });
    const byCompany = await t.inject({
      method: 'POST',
      url: '/api/v1/withdrawals',
      token: company,
      key: randomUUID(),
      body: { amount: { amount: 1_000, currency: 'USD' }, method_id: methodId },
    });
    expect(byCompany.status).toBe(403);
    const written = await t.service.db
      .selectFrom('withdrawals')
      .select('id')
      .where('user_id', '=', user.id)
      .execute();
    expect(written).toEqual([]);
  });
});

describe("payouts' figures for the admin dashboard", () => {
  const summary = async () => {
    const response = await t.inject({
      url: ADMIN_SUMMARY_PATH,
      token: await t.token({ sub: randomUUID(), role: 'admin' }),
    });
    expect(response.status).toBe(200);
    return response.body as {
      pending_payouts: { currency: string; count: number; amount: number }[];
      awaiting_review: number;
    };
  };
  const usdPending = (s: Awaited<ReturnType<typeof summary>>) =>
    s.pending_payouts.find((p) => p.currency === 'USD') ?? { currency: 'USD', count: 0, amount: 0 };

  it('counts a held withdrawal as pending and awaiting review, still pending once approved, and gone once refused', async () => {
    const before = await summary();
    const user = await t.fixtures.contributor();
    const [first, second] = [await held(user, 1_250), await held(user, 750)];
    const waiting = await summary();
    expect(usdPending(waiting)).toEqual({
      currency: 'USD',
      count: usdPending(before).count + 2,
      amount: usdPending(before).amount + 2_000,
    });
    expect(waiting.awaiting_review).toBe(before.awaiting_review + 2);

    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const approved = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/payouts/batch-approve',
      token: admin,
      body: { withdrawal_ids: [first] },
    });
    expect(approved.body).toMatchObject({ approved: 1 });
    const refused = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/withdrawals/${second}/reject`,
      token: admin,
      body: { reason_code: 'SUSPECTED_FRAUD', reason: 'The account name does not match.' },
    });
    expect(refused.body.withdrawal, JSON.stringify(refused.body)).toMatchObject({ status: 'rejected' });
    const after = await summary();
    expect(usdPending(after)).toEqual({
      currency: 'USD',
      count: usdPending(before).count + 1,
      amount: usdPending(before).amount + 1_250,
    });
    expect(after.awaiting_review).toBe(before.awaiting_review);
  });

  it('answers admins only', () => expectAdminsOnly(t, ADMIN_SUMMARY_PATH));
});
