import type { Logger } from '@tessera/service-kit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PayoutsConfig } from '../config.ts';
import { openProvider } from './open.ts';
import { paypalProvider, payoutsNamed, toPayPalValue, type PayPalProviderOptions } from './paypal.ts';
import type { PayoutOrder } from './provider.ts';
import { startFakePayPal, type FakePayPal } from './testing/fake-paypal.ts';

/** A logger that keeps every line it is given, serialized, and its children's. */
function captureLogger() {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const write =
      (level: string) =>
      (...args: unknown[]) =>
        lines.push(JSON.stringify({ level, ...bindings, args }));
    return {
      trace: write('trace'),
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      fatal: write('fatal'),
      child: (more: Record<string, unknown>) => make({ ...bindings, ...more }),
    } as unknown as Logger;
  };
  return { logger: make({}), lines };
}

const EMAIL = 'worker.person+payouts@example.org';

let fake: FakePayPal;
let sequence = 0;
let logs: ReturnType<typeof captureLogger>;

function provider(overrides: Partial<PayPalProviderOptions> = {}) {
  return paypalProvider({
    baseUrl: fake.url,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    logger: logs.logger,
    timeoutMs: 1_000,
    ...overrides,
  });
}

function order(overrides: Partial<PayoutOrder> = {}): PayoutOrder {
  sequence += 1;
  return {
    withdrawalId: `0198c0de-0000-7000-8000-${String(sequence).padStart(12, '0')}`,
    amount: { amount: 12_345, currency: 'USD' },
    method: { type: 'paypal', details: { email: EMAIL } },
    ...overrides,
  };
}

beforeAll(async () => {
  fake = await startFakePayPal();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  logs = captureLogger();
});

describe('toPayPalValue', () => {
  it('writes minor units as a two-decimal string', () => {
    expect(toPayPalValue(1)).toBe('0.01');
    expect(toPayPalValue(12_345)).toBe('123.45');
    expect(toPayPalValue(100)).toBe('1.00');
    expect(toPayPalValue(10)).toBe('0.10');
    expect(toPayPalValue(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
  });

  it('refuses what is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) expect(() => toPayPalValue(bad)).toThrow(RangeError);
  });
});

describe('PayPal provider', () => {
  it('sends one batch of one EMAIL item and reports it completed', async () => {
    const paypal = provider();
    const withdrawal = order();

    const sent = await paypal.send(withdrawal);

    const payout = fake.payoutFor(withdrawal.withdrawalId)!;
    expect(sent).toEqual({ kind: 'pending', externalId: payout.batchId });
    expect(payout).toMatchObject({
      receiver: EMAIL,
      recipientType: 'EMAIL',
      amount: { value: '123.45', currency: 'USD' },
      senderItemId: withdrawal.withdrawalId,
    });
    expect(fake.requests.find((r) => r.route === 'create')?.requestId).toBe(withdrawal.withdrawalId);
    expect(paypal).toMatchObject({ name: 'paypal', manual: false });

    const status = await paypal.status({ ...withdrawal, externalId: payout.batchId });
    expect(status).toMatchObject({ kind: 'completed' });
    expect(status.kind === 'completed' && status.externalId).toMatch(/^[A-Z0-9]{17}$/);
    expect(fake.payoutsCreated).toBe(1);
  });

  it('reads a batch it named by its id alone, without the payout method (erased details)', async () => {
    fake.nextItem = [{ status: 'PENDING' }, { status: 'SUCCESS' }];
    const paypal = provider();
    const withdrawal = order();
    const sent = await paypal.send(withdrawal);
    const externalId = sent.kind === 'pending' ? sent.externalId : null;
    expect(externalId).toBeTruthy();
    const lookup = {
      withdrawalId: withdrawal.withdrawalId,
      amount: withdrawal.amount,
      externalId: externalId!,
    };
    expect(await paypal.status(lookup)).toEqual({ kind: 'pending', externalId });
    expect(await paypal.status(lookup)).toMatchObject({ kind: 'completed' });
    expect(fake.payoutsCreated).toBe(1);
  });

  it('converts the amount from minor units', async () => {
    const paypal = provider();
    for (const [minor, value] of [
      [1, '0.01'],
      [100, '1.00'],
      [12_345, '123.45'],
    ] as const) {
      const withdrawal = order({ amount: { amount: minor, currency: 'EUR' } });
      await paypal.send(withdrawal);
      expect(fake.payoutFor(withdrawal.withdrawalId)?.amount).toEqual({ value, currency: 'EUR' });
    }
  });

  it('answers pending while the item is pending, then completed', async () => {
    fake.nextItem = [{ status: 'PENDING' }, { status: 'PENDING' }, { status: 'SUCCESS' }];
    const paypal = provider();
    const withdrawal = order();
    const sent = await paypal.send(withdrawal);
    const known = { ...withdrawal, externalId: sent.kind === 'pending' ? sent.externalId : null };

    expect(await paypal.status(known)).toEqual({ kind: 'pending', externalId: known.externalId });
    expect(await paypal.status(known)).toEqual({ kind: 'pending', externalId: known.externalId });
    expect(await paypal.status(known)).toMatchObject({ kind: 'completed' });
  });

  it('keeps an UNCLAIMED item pending (PayPal returns the money after 30 days: RETURNED fails)', async () => {
    fake.nextItem = [
      { status: 'UNCLAIMED', error: { name: 'RECEIVER_UNREGISTERED', message: 'Receiver is unregistered' } },
      { status: 'RETURNED', error: { name: 'RECEIVER_UNREGISTERED', message: 'Receiver is unregistered' } },
    ];
    const paypal = provider();
    const withdrawal = order();
    const sent = await paypal.send(withdrawal);
    const known = { ...withdrawal, externalId: sent.kind === 'pending' ? sent.externalId : null };

    expect(await paypal.status(known)).toEqual({ kind: 'pending', externalId: known.externalId });
    expect(await paypal.status(known)).toMatchObject({ kind: 'failed', reasonCode: 'RECEIVER_UNREGISTERED' });
  });

  it('never creates a second payout when the same withdrawal is sent again (request id replay)', async () => {
    const paypal = provider();
    const withdrawal = order();
    const first = await paypal.send(withdrawal);
    const again = await provider().send(withdrawal);

    expect(again).toEqual(first);
    expect(fake.payoutsCreated).toBe(1);
  });

  it('never creates a second payout when PayPal refuses the repeated sender_batch_id', async () => {
    fake.honourRequestId = false;
    const paypal = provider();
    const withdrawal = order();
    const first = await paypal.send(withdrawal);

    const again = await paypal.send(withdrawal);

    expect(fake.payoutsCreated).toBe(1);
    expect(again).toMatchObject({ kind: 'completed' });
    const batchId = first.kind === 'pending' ? first.externalId : null;
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      `GET /v1/payments/payouts/${batchId}`,
    );
  });

  it('answers unconfirmed, never pending or failed, to a duplicate refusal that does not link the batch', async () => {
    fake.honourRequestId = false;
    fake.duplicateLink = false;
    const paypal = provider();
    const withdrawal = order();
    await paypal.send(withdrawal);

    // Pending would have the sender post it again at every poll (and pay twice once PayPal's
    // duplicate window is over); failed would release money that may be out.
    expect(await paypal.send(withdrawal)).toEqual({
      kind: 'unconfirmed',
      reason: 'DUPLICATE_BATCH_NOT_NAMED',
    });
    expect(await paypal.status({ ...withdrawal, externalId: null })).toEqual({
      kind: 'unconfirmed',
      reason: 'DUPLICATE_BATCH_NOT_NAMED',
    });
    expect(fake.payoutsCreated).toBe(1);
    expect(provider().resendWindowMs).toBe(25 * 86_400_000);
  });

  it('finds the batch from the withdrawal id alone when its id was never stored', async () => {
    fake.honourRequestId = false;
    const withdrawal = order();
    await provider().send(withdrawal);

    // A restarted service: a fresh provider, no externalId.
    expect(await provider().status({ ...withdrawal, externalId: null })).toMatchObject({ kind: 'completed' });
    expect(fake.payoutsCreated).toBe(1);
  });

  it.each([
    [500, 'HTTP_500'],
    [503, 'HTTP_503'],
    [429, 'RATE_LIMITED'],
  ])('answers retry to a %i, and the next send pays once', async (code, reason) => {
    fake.fail('create', code);
    const paypal = provider();
    const withdrawal = order();

    expect(await paypal.send(withdrawal)).toEqual({ kind: 'retry', reason });
    expect(await paypal.send(withdrawal)).toMatchObject({ kind: 'pending' });
    expect(fake.payoutsCreated).toBe(1);
  });

  it('answers retry when reading the status fails with a 5xx', async () => {
    const paypal = provider();
    const withdrawal = order();
    const sent = await paypal.send(withdrawal);
    fake.fail('batch', 502);

    expect(
      await paypal.status({ ...withdrawal, externalId: sent.kind === 'pending' ? sent.externalId : null }),
    ).toEqual({
      kind: 'retry',
      reason: 'HTTP_502',
    });
  });

  it.each([
    [403, 'NOT_AUTHORIZED'],
    [400, 'VALIDATION_ERROR'],
    [422, 'UNPROCESSABLE_ENTITY'],
  ])('answers retry, never failed, when reading a batch that exists fails with a %i', async (code, name) => {
    const paypal = provider();
    const withdrawal = order();
    const sent = await paypal.send(withdrawal);
    const known = { ...withdrawal, externalId: sent.kind === 'pending' ? sent.externalId : null };
    fake.fail('batch', code, { name, message: 'Authorization failed due to insufficient permissions.' });

    expect(await paypal.status(known)).toEqual({ kind: 'retry', reason: `HTTP_${code}` });
    expect(await paypal.status(known)).toMatchObject({ kind: 'completed' });
    expect(fake.payoutsCreated).toBe(1);
  });

  it('answers retry on a timeout; the batch PayPal made meanwhile is found, not made twice', async () => {
    fake.slow('create', 300);
    const paypal = provider({ timeoutMs: 80 });
    const withdrawal = order();

    expect(await paypal.send(withdrawal)).toEqual({ kind: 'retry', reason: 'TIMEOUT' });
    await expect.poll(() => fake.payoutsCreated, { timeout: 2_000, interval: 20 }).toBe(1);

    fake.honourRequestId = false;
    expect(await paypal.send(withdrawal)).toMatchObject({ kind: 'completed' });
    expect(fake.payoutsCreated).toBe(1);
  });

  it('answers retry when PayPal cannot be reached', async () => {
    const paypal = provider({ baseUrl: 'http://127.0.0.1:9' });
    expect(await paypal.send(order())).toEqual({ kind: 'retry', reason: 'NETWORK_ERROR' });
  });

  it('answers retry when the token endpoint fails', async () => {
    fake.fail('token', 503);
    expect(await provider().send(order())).toEqual({ kind: 'retry', reason: 'TOKEN_HTTP_503' });
    expect(fake.payoutsCreated).toBe(0);
  });

  it('caches the access token until shortly before it expires', async () => {
    let clock = 1_000_000;
    fake.tokenLifetimeSeconds = 600;
    const paypal = provider({ now: () => clock, tokenRefreshMarginMs: 60_000 });
    await paypal.send(order());
    await paypal.send(order());
    expect(fake.tokensIssued).toBe(1);

    clock += 539_000;
    await paypal.send(order());
    expect(fake.tokensIssued).toBe(1);

    clock += 2_000; // within a minute of expiry
    await paypal.send(order());
    expect(fake.tokensIssued).toBe(2);
  });

  it('refreshes the token once on a 401 and carries on', async () => {
    const paypal = provider();
    const withdrawal = order();
    const sent = await paypal.send(withdrawal);
    fake.expireTokens();

    const status = await paypal.status({
      ...withdrawal,
      externalId: sent.kind === 'pending' ? sent.externalId : null,
    });

    expect(status).toMatchObject({ kind: 'completed' });
    expect(fake.tokensIssued).toBe(2);
  });

  it('answers retry when a fresh token is refused too (no loop)', async () => {
    fake.fail('create', 401, { name: 'AUTHENTICATION_FAILURE', times: 5 });
    expect(await provider().send(order())).toEqual({ kind: 'retry', reason: 'UNAUTHORIZED' });
    expect(fake.requests.filter((r) => r.route === 'create')).toHaveLength(2);
    expect(fake.tokensIssued).toBe(2);
  });

  it('answers failed with the item error when the item FAILED', async () => {
    fake.nextItem = [
      { status: 'FAILED', error: { name: 'RECEIVER_ACCOUNT_LOCKED', message: 'Receiver account is locked' } },
    ];
    const paypal = provider();
    const withdrawal = order();
    const sent = await paypal.send(withdrawal);

    expect(
      await paypal.status({ ...withdrawal, externalId: sent.kind === 'pending' ? sent.externalId : null }),
    ).toEqual({
      kind: 'failed',
      reasonCode: 'RECEIVER_ACCOUNT_LOCKED',
      detail: 'FAILED: Receiver account is locked',
    });
  });

  it('answers failed to a business refusal, retry to a short balance', async () => {
    fake.fail('create', 403, { name: 'SENDER_RESTRICTED', message: 'Your account is restricted.' });
    expect(await provider().send(order())).toMatchObject({ kind: 'failed', reasonCode: 'SENDER_RESTRICTED' });

    fake.fail('create', 422, {
      name: 'INSUFFICIENT_FUNDS',
      message: 'Sender does not have sufficient funds.',
    });
    expect(await provider().send(order())).toEqual({ kind: 'retry', reason: 'INSUFFICIENT_FUNDS' });
    expect(fake.payoutsCreated).toBe(0);
  });

  it.each(['bank_transfer', 'crypto_usdc'] as const)(
    'refuses a %s method without calling PayPal',
    async (type) => {
      const result = await provider().send(
        order({ method: { type, details: { iban: 'DE89370400440532013000' } } }),
      );
      expect(result).toMatchObject({ kind: 'failed', reasonCode: 'METHOD_NOT_SUPPORTED_BY_PROVIDER' });
      expect(fake.requests).toHaveLength(0);
    },
  );

  it('refuses currencies without two decimals and methods without an email', async () => {
    const paypal = provider();
    expect(await paypal.send(order({ amount: { amount: 500, currency: 'JPY' } }))).toMatchObject({
      kind: 'failed',
      reasonCode: 'CURRENCY_NOT_SUPPORTED_BY_PROVIDER',
    });
    expect(await paypal.send(order({ method: { type: 'paypal', details: {} } }))).toMatchObject({
      kind: 'failed',
      reasonCode: 'INVALID_METHOD_DETAILS',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('never logs the receiver, the credentials or a token', async () => {
    fake.honourRequestId = false;
    fake.nextItem = [
      { status: 'FAILED', error: { name: 'RECEIVER_ACCOUNT_LOCKED', message: `${EMAIL} is locked` } },
    ];
    const paypal = provider();
    const withdrawal = order();
    await paypal.send(withdrawal);
    const failed = await paypal.send(withdrawal); // duplicate → reads the batch, which echoes the receiver
    fake.fail('create', 500);
    await paypal.send(order());
    fake.expireTokens();
    await paypal.send(order());

    expect(failed).toMatchObject({ kind: 'failed', reasonCode: 'RECEIVER_ACCOUNT_LOCKED' });
    expect(failed.kind === 'failed' && failed.detail).not.toContain(EMAIL);
    const written = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(3);
    expect(written).toContain(withdrawal.withdrawalId);
    for (const secret of [EMAIL, 'example.org', fake.clientSecret, 'A21AA', 'Basic ', 'Bearer ']) {
      expect(written).not.toContain(secret);
    }
  });

  it('is what openProvider builds for PAYOUTS_PROVIDER=paypal', async () => {
    const config = {
      PAYOUTS_PROVIDER: 'paypal',
      PAYPAL_API_BASE: fake.url,
      PAYPAL_CLIENT_ID: fake.clientId,
      PAYPAL_CLIENT_SECRET: fake.clientSecret,
    } as PayoutsConfig;
    const opened = openProvider(config, logs.logger);
    expect(opened).toMatchObject({ name: 'paypal', manual: false });
    expect(await opened.send(order())).toMatchObject({ kind: 'pending' });
  });
});

describe('the payouts a PayPal webhook event names', () => {
  it('reads an item event: the withdrawal id from sender_batch_id and sender_item_id, the batch id', () => {
    expect(
      payoutsNamed({
        id: 'WH-1',
        event_type: 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED',
        resource: {
          payout_item_id: 'ITEM1',
          payout_batch_id: 'BATCH1',
          sender_batch_id: 'w-1',
          payout_item: { sender_item_id: 'w-1', receiver: 'someone@example.com' },
        },
      }),
    ).toEqual({ withdrawalIds: ['w-1'], externalIds: ['BATCH1'] });
  });

  it('reads a batch event from its header', () => {
    expect(
      payoutsNamed({
        id: 'WH-2',
        event_type: 'PAYMENT.PAYOUTSBATCH.SUCCESS',
        resource: {
          batch_header: { payout_batch_id: 'BATCH2', sender_batch_header: { sender_batch_id: 'w-2' } },
        },
      }),
    ).toEqual({ withdrawalIds: ['w-2'], externalIds: ['BATCH2'] });
  });

  it('names nothing for other events, or for fields that are not text', () => {
    expect(
      payoutsNamed({
        id: 'WH-3',
        event_type: 'CHECKOUT.ORDER.APPROVED',
        resource: { sender_batch_id: 'w-3' },
      }),
    ).toEqual({ withdrawalIds: [], externalIds: [] });
    expect(
      payoutsNamed({
        id: 'WH-4',
        event_type: 'PAYMENT.PAYOUTS-ITEM.FAILED',
        resource: { sender_batch_id: 42, payout_batch_id: null, payout_item: 'x' },
      }),
    ).toEqual({ withdrawalIds: [], externalIds: [] });
  });
});
