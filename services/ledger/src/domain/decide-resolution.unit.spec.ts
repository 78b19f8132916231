import { describe, expect, it } from 'vitest';
import { accountStream, transferStream } from './accounts.ts';
import { accounts, balancesOf, createDomainLedger, request } from './__fixtures__/ledger.ts';
import type { TransferRequest } from './transfers.ts';

/** The user holds 1000 USD, 300 of it held by a pending withdrawal to world (timeout 60 s unless told). */
function givenAHold(pending: TransferRequest['pending'] = { timeout_seconds: 60 }) {
  const ledger = createDomainLedger();
  ledger.transfer([request({ amount: 1000 })]);
  const hold = request({
    debit_account: accounts.user,
    credit_account: accounts.world,
    amount: 300,
    code: 'withdrawal',
    pending,
  });
  expect(ledger.transfer([hold]).kind).toBe('decided');
  return { ledger, hold };
}

describe('posting a pending transfer', () => {
  it('moves the reserved amount from pending to posted on both sides', () => {
    const { ledger, hold } = givenAHold();
    const decision = ledger.resolve({ pending_id: hold.id, action: 'post' });

    expect(decision).toMatchObject({
      kind: 'decided',
      transfer: { id: hold.id, state: 'posted', resolved_at: '2030-01-01T00:00:00.000Z' },
    });
    expect(balancesOf(ledger.account(accounts.user))).toEqual({
      debits_posted: 300,
      credits_posted: 1000,
      debits_pending: 0,
      credits_pending: 0,
    });
    expect(balancesOf(ledger.account(accounts.world))).toEqual({
      debits_posted: 1000,
      credits_posted: 300,
      debits_pending: 0,
      credits_pending: 0,
    });
  });

  it('is written at the revision of the transfer read, and needs its accounts only to exist', () => {
    const { ledger, hold } = givenAHold();
    const decision = ledger.resolve({ pending_id: hold.id, action: 'post' });

    if (decision.kind !== 'decided') throw new Error('expected a decision');
    expect(
      decision.writes.map(({ stream, expect, events }) => [stream, expect, events.map((e) => e.type)]),
    ).toEqual([
      [transferStream(hold.id), 'as_read', ['pending-posted']],
      [accountStream(accounts.user, 'USD'), 'exists', ['account-entry']],
      [accountStream(accounts.world, 'USD'), 'exists', ['account-entry']],
    ]);
  });

  it('again is a replayed success that moves nothing', () => {
    const { ledger, hold } = givenAHold();
    ledger.resolve({ pending_id: hold.id, action: 'post' });
    const before = ledger.account(accounts.user);

    expect(ledger.resolve({ pending_id: hold.id, action: 'post' })).toMatchObject({
      kind: 'replayed',
      transfer: { state: 'posted' },
    });
    expect(ledger.account(accounts.user)).toEqual(before);
  });

  it('after a void is refused with PENDING_NOT_PENDING', () => {
    const { ledger, hold } = givenAHold();
    ledger.resolve({ pending_id: hold.id, action: 'void' });
    expect(ledger.resolve({ pending_id: hold.id, action: 'post' })).toEqual({
      kind: 'rejected',
      rejection: {
        code: 'PENDING_NOT_PENDING',
        detail: `transfer ${hold.id} was already voided`,
        transfer_id: hold.id,
      },
    });
  });

  it('once the expiry time has passed is refused, even before the expiry is recorded', () => {
    const { ledger, hold } = givenAHold();
    ledger.advance(60);
    expect(ledger.resolve({ pending_id: hold.id, action: 'post' })).toMatchObject({
      rejection: {
        code: 'PENDING_NOT_PENDING',
        detail: expect.stringContaining('expired at 2030-01-01T00:01:00.000Z'),
      },
    });
  });

  it('one second before the expiry time succeeds', () => {
    const { ledger, hold } = givenAHold();
    ledger.advance(59);
    expect(ledger.resolve({ pending_id: hold.id, action: 'post' }).kind).toBe('decided');
  });

  it('of a transfer that was not pending is refused with PENDING_NOT_PENDING', () => {
    const ledger = createDomainLedger();
    const topup = request();
    ledger.transfer([topup]);
    expect(ledger.resolve({ pending_id: topup.id, action: 'post' })).toMatchObject({
      rejection: { code: 'PENDING_NOT_PENDING', detail: `transfer ${topup.id} was not created pending` },
    });
  });

  it('of an unknown id is refused with PENDING_NOT_FOUND', () => {
    const ledger = createDomainLedger();
    const id = request().id;
    expect(ledger.resolve({ pending_id: id, action: 'post' })).toMatchObject({
      rejection: { code: 'PENDING_NOT_FOUND', transfer_id: id },
    });
  });
});

describe('voiding a pending transfer', () => {
  it('releases the reserved amount on both sides', () => {
    const { ledger, hold } = givenAHold();
    expect(ledger.resolve({ pending_id: hold.id, action: 'void' })).toMatchObject({
      kind: 'decided',
      transfer: { state: 'voided' },
    });
    expect(balancesOf(ledger.account(accounts.user))).toEqual({
      ...balancesOf(undefined),
      credits_posted: 1000,
    });
    expect(balancesOf(ledger.account(accounts.world))).toEqual({
      ...balancesOf(undefined),
      debits_posted: 1000,
    });
  });

  it('makes the released amount available again', () => {
    const { ledger, hold } = givenAHold();
    const spendAll = request({
      debit_account: accounts.user,
      credit_account: accounts.revenue,
      amount: 1000,
      code: 'penalty',
    });
    expect(ledger.transfer([spendAll]).kind).toBe('rejected');
    ledger.resolve({ pending_id: hold.id, action: 'void' });
    expect(ledger.transfer([spendAll]).kind).toBe('decided');
  });

  it('again is replayed; after a post it is refused', () => {
    const voided = givenAHold();
    voided.ledger.resolve({ pending_id: voided.hold.id, action: 'void' });
    expect(voided.ledger.resolve({ pending_id: voided.hold.id, action: 'void' }).kind).toBe('replayed');

    const posted = givenAHold();
    posted.ledger.resolve({ pending_id: posted.hold.id, action: 'post' });
    expect(posted.ledger.resolve({ pending_id: posted.hold.id, action: 'void' })).toMatchObject({
      rejection: { code: 'PENDING_NOT_PENDING', detail: expect.stringContaining('already posted') },
    });
  });
});

describe('expiring a pending transfer', () => {
  it('releases the reserved amount once the expiry time is reached', () => {
    const { ledger, hold } = givenAHold();
    ledger.advance(60);
    const decision = ledger.expire(hold.id);

    expect(decision).toMatchObject({ kind: 'decided', transfer: { state: 'expired' } });
    if (decision.kind !== 'decided') throw new Error('expected a decision');
    expect(decision.writes[0]?.events).toEqual([
      {
        type: 'pending-expired',
        data: { transfer_id: hold.id, amount: 300, at: '2030-01-01T00:01:00.000Z' },
      },
    ]);
    expect(ledger.account(accounts.user)).toMatchObject({ debits_pending: 0, debits_posted: 0 });
    expect(ledger.account(accounts.world)).toMatchObject({ credits_pending: 0, credits_posted: 0 });
  });

  it('before the expiry time is refused with PENDING_NOT_EXPIRED', () => {
    const { ledger, hold } = givenAHold();
    ledger.advance(59);
    expect(ledger.expire(hold.id)).toMatchObject({
      rejection: {
        code: 'PENDING_NOT_EXPIRED',
        detail: `transfer ${hold.id} expires at 2030-01-01T00:01:00.000Z`,
      },
    });
  });

  it('without a timeout is never possible', () => {
    const { ledger, hold } = givenAHold({ timeout_seconds: null });
    ledger.advance(10 * 365 * 24 * 3600);
    expect(ledger.expire(hold.id)).toMatchObject({
      rejection: { code: 'PENDING_NOT_EXPIRED', detail: expect.stringContaining('never expires') },
    });
  });

  it('again is replayed; after a post or a void it is refused', () => {
    const { ledger, hold } = givenAHold();
    ledger.advance(120);
    ledger.expire(hold.id);
    expect(ledger.expire(hold.id).kind).toBe('replayed');
    expect(ledger.resolve({ pending_id: hold.id, action: 'void' })).toMatchObject({
      rejection: { code: 'PENDING_NOT_PENDING', detail: expect.stringContaining('already expired') },
    });

    const posted = givenAHold();
    posted.ledger.resolve({ pending_id: posted.hold.id, action: 'post' });
    posted.ledger.advance(120);
    expect(posted.ledger.expire(posted.hold.id)).toMatchObject({
      rejection: { code: 'PENDING_NOT_PENDING' },
    });
  });
});

describe('a pending balancing debit of nothing', () => {
  it('is posted or voided without account entries', () => {
    const ledger = createDomainLedger();
    const sweep = request({
      debit_account: accounts.campaign,
      credit_account: accounts.company,
      amount: 10,
      code: 'refund',
      balancing_debit: true,
      pending: { timeout_seconds: null },
    });
    expect(ledger.transfer([sweep])).toMatchObject({ transfers: [{ amount: 0, state: 'pending' }] });
    const decision = ledger.resolve({ pending_id: sweep.id, action: 'post' });
    expect(decision.kind === 'decided' && decision.writes.map((w) => w.stream)).toEqual([
      transferStream(sweep.id),
    ]);
  });
});
