import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayClient, show, usd } from './client.ts';
import { e2eAdmin, type Platform, sharedPlatform } from './platform.ts';

// A contributor takes their earnings out, through the gateway of `npm start`: earn (an admin bonus),
// add a payout method, withdraw; an admin approves and records the payout; the wallet and its
// statement show it.

let platform: Platform;
const admin = e2eAdmin;
const { call, waitFor, logIn } = gatewayClient(() => platform);

beforeAll(async () => {
  platform = await sharedPlatform();
  for (const path of ['/api/v1/wallet', '/api/v1/withdrawals/me', '/api/v1/payout-methods']) {
    await waitFor(`${path} did not answer through the gateway`, 60_000, async () =>
      (await fetch(`${platform.baseUrl}${path}`)).status === 401 ? true : undefined,
    );
  }
});

/** A contributor with a verified email (the code comes from the dev mailbox). */
async function verifiedContributor() {
  const email = `e2e.payouts.${randomBytes(6).toString('hex')}@example.test`;
  const password = 'e2e-copper-meadow-lantern';
  const signup = await call('POST', '/auth/signup', {
    body: { email, password, full_name: 'E2E Earner', role: 'contributor' },
  });
  expect(signup.status, show(signup)).toBe(201);
  const mail = await call('GET', `/dev/mailbox?to=${encodeURIComponent(email)}`);
  const otp = /\b(\d{6})\b/.exec(mail.body.messages[0].text as string)?.[1];
  const verified = await call('POST', '/auth/verify-email', { body: { email, otp } });
  expect(verified.status, show(verified)).toBe(200);
  return logIn(email, password);
}

describe('payouts through the gateway', () => {
  it('earns, adds a method, withdraws; an admin approves and records the payout; the wallet shows it', async () => {
    const root = await logIn(admin.email, admin.password);
    const earner = await verifiedContributor();

    const bonus = await call('POST', '/api/v1/admin/ledger/adjustments', {
      token: root.token,
      key: `e2e-bonus-${randomUUID()}`,
      body: { user_id: earner.userId, kind: 'bonus', amount: usd(2_500), reason: 'e2e welcome bonus' },
    });
    expect(bonus.status, show(bonus)).toBe(201);

    const method = await call('POST', '/api/v1/payout-methods', {
      token: earner.token,
      body: { type: 'bank_transfer', account_name: 'E2E Earner', iban: 'GB82WEST12345698765432' },
    });
    expect(method.status, show(method)).toBe(201);
    expect(JSON.stringify(method.body)).not.toContain('12345698765432');
    const methodId: string = method.body.method.id;

    // Payouts learns the verified email from identity's events: wait until it takes the request.
    const key = `e2e-withdraw-${randomUUID()}`;
    const requested = await waitFor('payouts never took the withdrawal', 30_000, async () => {
      const reply = await call('POST', '/api/v1/withdrawals', {
        token: earner.token,
        key,
        body: { amount: usd(2_000), method_id: methodId },
      });
      return reply.status === 202 ? reply : undefined;
    });
    const id: string = requested.body.withdrawal.id;
    await waitFor('the ledger never held the amount', 30_000, async () => {
      const reply = await call('GET', `/api/v1/withdrawals/${id}`, { token: earner.token });
      return reply.body.withdrawal.status === 'pending_review' ? reply : undefined;
    });
    const held = await waitFor('the wallet never showed the hold', 30_000, async () => {
      const reply = await call('GET', '/api/v1/wallet', { token: earner.token });
      return reply.body.held?.amount === 2_000 ? reply : undefined;
    });
    expect(held.body.available).toEqual(usd(500));

    const queue = await call('GET', '/api/v1/admin/withdrawals?status=pending_review&limit=200', {
      token: root.token,
    });
    expect(
      queue.body.withdrawals.some((w: { id: string }) => w.id === id),
      show(queue),
    ).toBe(true);
    const approved = await call('POST', '/api/v1/admin/payouts/batch-approve', {
      token: root.token,
      body: { withdrawal_ids: [id, randomUUID()] },
    });
    expect(approved.body).toMatchObject({ approved: 1, failed: 1 });
    const processed = await call('PUT', `/api/v1/withdrawals/${id}/process`, {
      token: root.token,
      body: { status: 'completed', external_transaction_id: 'E2E-WIRE-001' },
    });
    expect(processed.body.withdrawal, show(processed)).toMatchObject({ status: 'completed' });

    const paid = await waitFor('the wallet never showed the withdrawal', 30_000, async () => {
      const reply = await call('GET', '/api/v1/wallet', { token: earner.token });
      return reply.body.total_withdrawn?.amount === 2_000 ? reply : undefined;
    });
    expect(paid.body).toMatchObject({ available: usd(500), held: usd(0), total_earned: usd(2_500) });
    const statement = await call('GET', '/api/v1/wallet/transactions', { token: earner.token });
    expect(statement.status, show(statement)).toBe(200);
    const lines = statement.body.items as { amount: { amount: number }; direction: string; phase: string }[];
    expect(
      lines.some(
        (line) => line.amount.amount === 2_000 && line.direction === 'debit' && line.phase === 'posted',
      ),
      show(statement),
    ).toBe(true);
  });
});
