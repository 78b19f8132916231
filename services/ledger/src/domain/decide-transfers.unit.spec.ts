import { describe, expect, it } from 'vitest';
import { type AccountState, newAccount } from './account-state.ts';
import { accountStream, parseAccountId, transferStream } from './accounts.ts';
import { decideTransfers, parseTransferRequests } from './decide-transfers.ts';
import { InvalidRequestError } from './errors.ts';
import { accounts, balancesOf, createDomainLedger, request } from './__fixtures__/ledger.ts';
import type { TransferRequest, ValidTransferRequest } from './transfers.ts';

const MAX = Number.MAX_SAFE_INTEGER;

/** A ledger where the user holds `amount` USD (topped up from world). */
function givenUserHolds(amount: number) {
  const ledger = createDomainLedger();
  if (amount > 0) expect(ledger.transfer([request({ amount })]).kind).toBe('decided');
  return ledger;
}

function penalty(amount: number, overrides: Partial<TransferRequest> = {}): TransferRequest {
  return request({
    debit_account: accounts.user,
    credit_account: accounts.revenue,
    amount,
    code: 'penalty',
    ...overrides,
  });
}

function valid(raw: TransferRequest[]): ValidTransferRequest[] {
  const parsed = parseTransferRequests(raw);
  if (!parsed.ok) throw new Error(parsed.rejection.detail);
  return parsed.requests;
}

describe('a posted transfer', () => {
  it('debits one account and credits the other by the amount', () => {
    const ledger = createDomainLedger();
    const decision = ledger.transfer([request({ amount: 2500 })]);

    expect(decision.kind).toBe('decided');
    expect(balancesOf(ledger.account(accounts.world))).toEqual({
      ...balancesOf(undefined),
      debits_posted: 2500,
    });
    expect(balancesOf(ledger.account(accounts.user))).toEqual({
      ...balancesOf(undefined),
      credits_posted: 2500,
    });
  });

  it('records the transfer and opens both accounts on first use, with flags from their kind', () => {
    const ledger = createDomainLedger();
    const topup = request({ amount: 2500, metadata: { cause: 'evt-1' } });
    const decision = ledger.transfer([topup]);

    if (decision.kind !== 'decided') throw new Error('expected a decision');
    expect(decision.transfers).toEqual([
      expect.objectContaining({
        id: topup.id,
        amount: 2500,
        requested_amount: 2500,
        state: 'posted',
        pending: false,
        linked_ids: [topup.id],
        created_at: '2030-01-01T00:00:00.000Z',
        expires_at: null,
        metadata: { cause: 'evt-1' },
      }),
    ]);
    expect(
      decision.writes.map(({ stream, expect, events }) => [stream, expect, events.map((e) => e.type)]),
    ).toEqual([
      [transferStream(topup.id), 'no_stream', ['transfer-created']],
      [accountStream(accounts.world, 'USD'), 'no_stream', ['account-opened', 'account-entry']],
      [accountStream(accounts.user, 'USD'), 'no_stream', ['account-opened', 'account-entry']],
    ]);
    expect(ledger.account(accounts.world)?.flags.debits_must_not_exceed_credits).toBe(false);
    expect(ledger.account(accounts.user)).toMatchObject({
      kind: 'user_available',
      owner: parseAccountId(accounts.user)?.owner,
      flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false },
    });
  });

  it('pins only the accounts whose constraint it checked: a debited constrained account at its revision', () => {
    const ledger = givenUserHolds(1000);
    ledger.transfer([penalty(1)]);
    const decision = ledger.transfer([penalty(10)]);

    if (decision.kind !== 'decided') throw new Error('expected a decision');
    expect(decision.writes.map(({ stream, expect }) => [stream, expect])).toEqual([
      [transferStream(decision.transfers[0]!.id), 'no_stream'],
      [accountStream(accounts.user, 'USD'), 'as_read'],
      [accountStream(accounts.revenue, 'USD'), 'exists'],
    ]);
  });

  it('credits a constrained account without pinning it, and debits world without pinning it', () => {
    const ledger = givenUserHolds(1000);
    const decision = ledger.transfer([request({ amount: 5 })]);

    if (decision.kind !== 'decided') throw new Error('expected a decision');
    expect(decision.writes.slice(1).map(({ expect }) => expect)).toEqual(['exists', 'exists']);
  });

  it('keeps accounts of different currencies apart', () => {
    const ledger = givenUserHolds(1000);
    const decision = ledger.transfer([penalty(10, { currency: 'EUR' })]);

    expect(decision).toMatchObject({ kind: 'rejected', rejection: { code: 'INSUFFICIENT_FUNDS' } });
    expect(ledger.account(accounts.user, 'EUR')).toBeUndefined();
  });
});

describe('balance constraints', () => {
  it('lets a constrained account give exactly what it holds', () => {
    const ledger = givenUserHolds(10_000);
    expect(ledger.transfer([penalty(10_000)]).kind).toBe('decided');
    expect(ledger.account(accounts.user)).toMatchObject({ debits_posted: 10_000, credits_posted: 10_000 });
  });

  it('refuses one minor unit more with INSUFFICIENT_FUNDS, changing nothing', () => {
    const ledger = givenUserHolds(10_000);
    const attempt = penalty(10_001);
    const decision = ledger.transfer([attempt]);

    expect(decision).toEqual({
      kind: 'rejected',
      rejection: {
        code: 'INSUFFICIENT_FUNDS',
        detail: `${accounts.user} can give 10000 USD, not 10001`,
        transfer_id: attempt.id,
      },
    });
    expect(balancesOf(ledger.account(accounts.user))).toEqual({
      ...balancesOf(undefined),
      credits_posted: 10_000,
    });
    expect(ledger.transferRecord(attempt.id)).toBeUndefined();
  });

  it('counts pending debits against what the account can give', () => {
    const ledger = givenUserHolds(100);
    expect(ledger.transfer([penalty(60, { pending: { timeout_seconds: null } })]).kind).toBe('decided');
    expect(ledger.transfer([penalty(41)])).toMatchObject({ rejection: { code: 'INSUFFICIENT_FUNDS' } });
    expect(ledger.transfer([penalty(40)]).kind).toBe('decided');
  });

  it('does not count pending credits as funds', () => {
    const ledger = createDomainLedger();
    ledger.transfer([request({ amount: 100, pending: { timeout_seconds: null } })]);
    expect(ledger.transfer([penalty(1)])).toMatchObject({ rejection: { code: 'INSUFFICIENT_FUNDS' } });
  });

  it('refuses to debit a constrained account that was never opened, and does not open it', () => {
    const ledger = createDomainLedger();
    expect(ledger.transfer([penalty(1)])).toMatchObject({ rejection: { code: 'INSUFFICIENT_FUNDS' } });
    expect(ledger.account(accounts.user)).toBeUndefined();
    expect(ledger.account(accounts.revenue)).toBeUndefined();
  });

  it.each([accounts.world, accounts.promotions])('lets %s go into debit', (debit) => {
    const ledger = createDomainLedger();
    expect(ledger.transfer([request({ debit_account: debit, amount: 5000, code: 'bonus' })]).kind).toBe(
      'decided',
    );
    expect(ledger.account(debit)).toMatchObject({ debits_posted: 5000, credits_posted: 0 });
  });

  it.each([accounts.company, accounts.campaign, accounts.user, accounts.revenue])(
    'never lets %s go into debit',
    (debit) => {
      const ledger = createDomainLedger();
      const decision = ledger.transfer([request({ debit_account: debit, credit_account: accounts.world })]);
      expect(decision).toMatchObject({ rejection: { code: 'INSUFFICIENT_FUNDS' } });
    },
  );

  it('refuses to over-credit a credits_must_not_exceed_debits account with EXCEEDS_DEBITS, and pins it', () => {
    const stream = accountStream(accounts.company, 'USD');
    const limited: AccountState = {
      ...newAccount(parseAccountId(accounts.company)!, 'USD'),
      flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: true },
      debits_posted: 500,
    };
    const context = { accounts: new Map([[stream, limited]]), existingTransfers: new Map(), now: new Date() };
    const credit = (amount: number) => valid([request({ credit_account: accounts.company, amount })]);

    expect(decideTransfers(credit(501), context)).toMatchObject({
      rejection: { code: 'EXCEEDS_DEBITS', detail: `${accounts.company} can take 500 USD, not 501` },
    });
    const decision = decideTransfers(credit(500), context);
    expect(decision.kind === 'decided' && decision.writes.find((w) => w.stream === stream)?.expect).toBe(
      'as_read',
    );
  });
});

describe('refusals of a malformed transfer', () => {
  it.each([
    ['an id outside the chart', { credit_account: 'user:bob:available' }],
    ['an unknown platform account', { debit_account: 'platform:bank' }],
    ['an owner that is not a uuid', { debit_account: 'company:ACME:credits' }],
  ])('refuses %s with INVALID_ACCOUNT', (_what, overrides) => {
    const ledger = createDomainLedger();
    expect(ledger.transfer([request(overrides)])).toMatchObject({ rejection: { code: 'INVALID_ACCOUNT' } });
  });

  it('refuses debiting and crediting one account with SAME_ACCOUNT', () => {
    const ledger = givenUserHolds(100);
    const decision = ledger.transfer([penalty(10, { credit_account: accounts.user })]);
    expect(decision).toMatchObject({ rejection: { code: 'SAME_ACCOUNT' } });
  });

  it('refuses a zero amount with INVALID_AMOUNT', () => {
    const ledger = createDomainLedger();
    expect(ledger.transfer([request({ amount: 0 })])).toMatchObject({
      rejection: { code: 'INVALID_AMOUNT' },
    });
  });

  it.each([-1, 1.5, MAX + 1, Number.NaN, Infinity])('refuses the amount %s with INVALID_AMOUNT', (amount) => {
    const ledger = createDomainLedger();
    const attempt = request({ amount });
    expect(ledger.transfer([attempt])).toMatchObject({
      rejection: { code: 'INVALID_AMOUNT', transfer_id: attempt.id },
    });
  });

  it('refuses with OVERFLOW a transfer that would take a balance past the safe integers', () => {
    const ledger = createDomainLedger();
    expect(ledger.transfer([request({ amount: MAX })]).kind).toBe('decided');
    expect(ledger.transfer([request({ amount: 1 })])).toMatchObject({ rejection: { code: 'OVERFLOW' } });
    expect(ledger.transfer([request({ amount: 1, credit_account: accounts.otherUser })])).toMatchObject({
      rejection: { code: 'OVERFLOW', detail: expect.stringContaining(accounts.world) },
    });
  });

  it('refuses with OVERFLOW when posted plus pending would leave the safe integers', () => {
    const ledger = createDomainLedger();
    ledger.transfer([request({ amount: MAX - 1, pending: { timeout_seconds: null } })]);
    expect(ledger.transfer([request({ amount: 2 })])).toMatchObject({ rejection: { code: 'OVERFLOW' } });
    expect(ledger.transfer([request({ amount: 1 })]).kind).toBe('decided');
  });

  it.each([
    ['an id that is not a uuid', { id: 'abc' }],
    ['a currency that is not ISO-like', { currency: 'usd' }],
    ['an unknown code', { code: 'gift' }],
    ['an unknown field', { memo: 'hi' }],
  ])('throws InvalidRequestError for %s: a caller bug, not a refusal', (_what, overrides) => {
    const ledger = createDomainLedger();
    expect(() => ledger.transfer([request(overrides as Partial<TransferRequest>)])).toThrow(
      InvalidRequestError,
    );
  });

  it('throws InvalidRequestError for an empty command or one id twice in a command', () => {
    const ledger = createDomainLedger();
    const once = request();
    expect(() => ledger.transfer([])).toThrow(InvalidRequestError);
    expect(() => ledger.transfer([once, { ...once }])).toThrow(/appears twice/);
  });
});

describe('pending transfers', () => {
  it('reserve the amount in *_pending on both sides, with the expiry from the timeout', () => {
    const ledger = givenUserHolds(1000);
    const hold = penalty(300, {
      code: 'withdrawal',
      credit_account: accounts.world,
      pending: { timeout_seconds: 60 },
    });
    const decision = ledger.transfer([hold]);

    expect(decision).toMatchObject({
      kind: 'decided',
      transfers: [{ state: 'pending', pending: true, expires_at: '2030-01-01T00:01:00.000Z' }],
    });
    expect(ledger.account(accounts.user)).toMatchObject({
      credits_posted: 1000,
      debits_pending: 300,
      debits_posted: 0,
    });
    expect(ledger.account(accounts.world)).toMatchObject({ debits_posted: 1000, credits_pending: 300 });
  });

  it('never expire when the timeout is null', () => {
    const ledger = givenUserHolds(1000);
    const decision = ledger.transfer([penalty(300, { pending: { timeout_seconds: null } })]);
    expect(decision).toMatchObject({ transfers: [{ state: 'pending', expires_at: null }] });
  });
});

describe('balancing debits', () => {
  function givenCampaignHolds(amount: number) {
    const ledger = createDomainLedger();
    ledger.transfer([request({ credit_account: accounts.company, amount, code: 'topup' })]);
    ledger.transfer([
      request({
        debit_account: accounts.company,
        credit_account: accounts.campaign,
        amount,
        code: 'campaign_funding',
      }),
    ]);
    return ledger;
  }
  const sweep = (amount: number) =>
    request({
      debit_account: accounts.campaign,
      credit_account: accounts.company,
      amount,
      code: 'refund',
      balancing_debit: true,
    });

  it('move everything the account can give when asked for more', () => {
    const ledger = givenCampaignHolds(300);
    const decision = ledger.transfer([sweep(MAX)]);

    expect(decision).toMatchObject({ kind: 'decided', transfers: [{ amount: 300, requested_amount: MAX }] });
    expect(ledger.account(accounts.campaign)).toMatchObject({ debits_posted: 300, credits_posted: 300 });
  });

  it('move no more than the amount asked', () => {
    const ledger = givenCampaignHolds(300);
    expect(ledger.transfer([sweep(100)])).toMatchObject({
      transfers: [{ amount: 100, requested_amount: 100 }],
    });
  });

  it('leave what pending debits reserve', () => {
    const ledger = givenCampaignHolds(300);
    ledger.transfer([
      request({
        debit_account: accounts.campaign,
        credit_account: accounts.user,
        amount: 120,
        code: 'reward',
        pending: { timeout_seconds: null },
      }),
    ]);
    expect(ledger.transfer([sweep(MAX)])).toMatchObject({ transfers: [{ amount: 180 }] });
  });

  it('are recorded with amount 0 when there is nothing to move, writing no account entry', () => {
    const ledger = givenCampaignHolds(300);
    ledger.transfer([sweep(MAX)]);
    const before = ledger.account(accounts.campaign);
    const empty = sweep(MAX);
    const decision = ledger.transfer([empty]);

    if (decision.kind !== 'decided') throw new Error('expected a decision');
    expect(decision.transfers[0]).toMatchObject({ amount: 0, requested_amount: MAX, state: 'posted' });
    expect(decision.writes).toEqual([
      {
        stream: transferStream(empty.id),
        expect: 'no_stream',
        events: [expect.objectContaining({ type: 'transfer-created' })],
      },
    ]);
    expect(ledger.account(accounts.campaign)).toEqual(before);
    expect(ledger.transfer([empty])).toMatchObject({ kind: 'replayed', transfers: [{ amount: 0 }] });
  });

  it('may ask for 0, which moves 0 (0 does not mean "everything")', () => {
    const ledger = givenCampaignHolds(300);
    expect(ledger.transfer([sweep(0)])).toMatchObject({ kind: 'decided', transfers: [{ amount: 0 }] });
  });

  it('of an account never opened move 0 and open nothing', () => {
    const ledger = createDomainLedger();
    expect(ledger.transfer([sweep(MAX)])).toMatchObject({ kind: 'decided', transfers: [{ amount: 0 }] });
    expect(ledger.accountStates.size).toBe(0);
  });

  it('of an unconstrained account move the amount asked', () => {
    const ledger = createDomainLedger();
    const decision = ledger.transfer([request({ amount: 700, balancing_debit: true })]);
    expect(decision).toMatchObject({ transfers: [{ amount: 700 }] });
  });
});

describe('linked chains', () => {
  it('record every transfer together, each naming the whole chain', () => {
    const ledger = createDomainLedger();
    ledger.transfer([request({ credit_account: accounts.company, amount: 11_000 })]);
    const funding = request({
      debit_account: accounts.company,
      credit_account: accounts.campaign,
      amount: 10_000,
      code: 'campaign_funding',
    });
    const fee = request({
      debit_account: accounts.company,
      credit_account: accounts.revenue,
      amount: 1000,
      code: 'platform_fee',
    });
    const decision = ledger.transfer([funding, fee]);

    expect(decision).toMatchObject({
      kind: 'decided',
      transfers: [{ linked_ids: [funding.id, fee.id] }, { linked_ids: [funding.id, fee.id] }],
    });
    // One write per stream: the company's two entries go in one append at the revision read.
    if (decision.kind !== 'decided') throw new Error('expected a decision');
    const company = decision.writes.filter((w) => w.stream === accountStream(accounts.company, 'USD'));
    expect(company).toHaveLength(1);
    expect(company[0]).toMatchObject({ expect: 'as_read', events: [{}, {}] });
    expect(ledger.account(accounts.company)).toMatchObject({ debits_posted: 11_000, credits_posted: 11_000 });
  });

  it('are decided in order against the running state: a later transfer spends what an earlier one brought', () => {
    const ledger = createDomainLedger();
    const decision = ledger.transfer([
      request({ credit_account: accounts.company, amount: 500 }),
      request({
        debit_account: accounts.company,
        credit_account: accounts.campaign,
        amount: 500,
        code: 'campaign_funding',
      }),
    ]);
    expect(decision.kind).toBe('decided');
    // The company account is opened by this very command, so it is written at no_stream.
    if (decision.kind !== 'decided') throw new Error('expected a decision');
    expect(decision.writes.find((w) => w.stream === accountStream(accounts.company, 'USD'))?.expect).toBe(
      'no_stream',
    );
  });

  it('fail together: the failing transfer has its code, the others LINKED_FAILED, nothing is recorded', () => {
    const ledger = createDomainLedger();
    ledger.transfer([request({ credit_account: accounts.company, amount: 10_500 })]);
    const funding = request({
      debit_account: accounts.company,
      credit_account: accounts.campaign,
      amount: 10_000,
      code: 'campaign_funding',
    });
    const fee = request({
      debit_account: accounts.company,
      credit_account: accounts.revenue,
      amount: 1000,
      code: 'platform_fee',
    });
    const third = request({ amount: 5 });
    const before = new Map(ledger.accountStates);
    const decision = ledger.transfer([funding, fee, third]);

    expect(decision).toEqual({
      kind: 'rejected',
      rejection: {
        code: 'INSUFFICIENT_FUNDS',
        detail: `${accounts.company} can give 500 USD, not 1000 (transfer 2 of a linked chain of 3: none was recorded)`,
        transfer_id: fee.id,
        linked: [
          { transfer_id: funding.id, code: 'LINKED_FAILED' },
          { transfer_id: fee.id, code: 'INSUFFICIENT_FUNDS' },
          { transfer_id: third.id, code: 'LINKED_FAILED' },
        ],
      },
    });
    expect(new Map(ledger.accountStates)).toEqual(before);
    for (const { id } of [funding, fee, third]) expect(ledger.transferRecord(id)).toBeUndefined();
  });

  it('move one currency: CURRENCY_MISMATCH otherwise', () => {
    const ledger = createDomainLedger();
    const decision = ledger.transfer([request(), request({ currency: 'EUR' })]);
    expect(decision).toMatchObject({ rejection: { code: 'CURRENCY_MISMATCH', linked: [{}, {}] } });
  });

  it('are refused whole when one amount is malformed', () => {
    const ledger = createDomainLedger();
    const bad = request({ amount: -5 });
    const decision = ledger.transfer([request(), bad]);
    expect(decision).toMatchObject({
      rejection: {
        code: 'INVALID_AMOUNT',
        transfer_id: bad.id,
        linked: [{ code: 'LINKED_FAILED' }, { code: 'INVALID_AMOUNT' }],
      },
    });
  });
});

describe('idempotency', () => {
  it('replays the recorded transfer for the same id and body, moving nothing again', () => {
    const ledger = createDomainLedger();
    const topup = request({ amount: 700 });
    const first = ledger.transfer([topup]);
    const again = ledger.transfer([{ ...topup }]);

    expect(again).toEqual({ kind: 'replayed', transfers: first.kind === 'decided' ? first.transfers : [] });
    expect(ledger.account(accounts.user)?.credits_posted).toBe(700);
  });

  it('replays even when the request would now be refused (the first result stands)', () => {
    const ledger = givenUserHolds(100);
    const spend = penalty(100);
    ledger.transfer([spend]);
    expect(ledger.transfer([spend])).toMatchObject({ kind: 'replayed' });
  });

  it('treats left-out defaults as the same body', () => {
    const ledger = createDomainLedger();
    const topup = request();
    ledger.transfer([topup]);
    expect(ledger.transfer([{ ...topup, metadata: {}, balancing_debit: false }])).toMatchObject({
      kind: 'replayed',
    });
  });

  it.each([
    ['amount', { amount: 101 }],
    ['metadata', { metadata: { cause: 'other' } }],
    ['pending', { pending: { timeout_seconds: null } }],
    ['credit account', { credit_account: accounts.otherUser }],
  ])('refuses the same id with another %s as IDEMPOTENCY_CONFLICT', (_what, change) => {
    const ledger = createDomainLedger();
    const topup = request();
    ledger.transfer([topup]);
    expect(ledger.transfer([{ ...topup, ...change }])).toMatchObject({
      kind: 'rejected',
      rejection: { code: 'IDEMPOTENCY_CONFLICT', transfer_id: topup.id },
    });
    expect(ledger.account(accounts.user)?.credits_posted).toBe(100);
  });

  it('replays a whole chain recorded with the same bodies', () => {
    const ledger = createDomainLedger();
    const chain = [request(), request({ credit_account: accounts.otherUser })];
    ledger.transfer(chain);
    expect(ledger.transfer(chain)).toMatchObject({ kind: 'replayed', transfers: [{}, {}] });
  });

  it('refuses a chain of which only part was recorded', () => {
    const ledger = createDomainLedger();
    const recorded = request();
    ledger.transfer([recorded]);
    const fresh = request();
    expect(ledger.transfer([fresh, recorded])).toMatchObject({
      rejection: {
        code: 'IDEMPOTENCY_CONFLICT',
        transfer_id: recorded.id,
        linked: [{ code: 'LINKED_FAILED' }, { code: 'IDEMPOTENCY_CONFLICT' }],
      },
    });
    expect(ledger.transferRecord(fresh.id)).toBeUndefined();
  });

  it('refuses transfers recorded one by one when asked again as a chain, and a chain asked again in another order', () => {
    const ledger = createDomainLedger();
    const [a, b] = [request(), request()];
    ledger.transfer([a]);
    ledger.transfer([b]);
    expect(ledger.transfer([a, b])).toMatchObject({ rejection: { code: 'IDEMPOTENCY_CONFLICT' } });

    const [c, d] = [request(), request()];
    ledger.transfer([c, d]);
    expect(ledger.transfer([d, c])).toMatchObject({ rejection: { code: 'IDEMPOTENCY_CONFLICT' } });
  });

  it('records nothing for a refusal, so the same id may succeed once funds arrive', () => {
    const ledger = createDomainLedger();
    const spend = penalty(50);
    expect(ledger.transfer([spend]).kind).toBe('rejected');
    ledger.transfer([request({ amount: 50 })]);
    expect(ledger.transfer([spend]).kind).toBe('decided');
  });

  it('returns the current state of a replayed pending transfer', () => {
    const ledger = givenUserHolds(100);
    const hold = penalty(50, { pending: { timeout_seconds: null } });
    ledger.transfer([hold]);
    ledger.resolve({ pending_id: hold.id, action: 'post' });
    expect(ledger.transfer([hold])).toMatchObject({ kind: 'replayed', transfers: [{ state: 'posted' }] });
  });

  it('is decided by the domain too when the engine passes recorded transfers', () => {
    const ledger = createDomainLedger();
    const topup = request();
    ledger.transfer([topup]);
    const record = ledger.transferRecord(topup.id)!;
    const decision = decideTransfers(valid([{ ...topup, amount: 1 }]), {
      accounts: new Map(),
      existingTransfers: new Map([[topup.id, record]]),
      now: new Date(),
    });
    expect(decision).toMatchObject({ rejection: { code: 'IDEMPOTENCY_CONFLICT' } });
  });
});
