import { describe, expect, it } from 'vitest';
import { evolveAccount, foldAccount } from './account-state.ts';
import { LedgerInvariantError } from './errors.ts';
import type { StoredEvent } from './events.ts';
import { evolveTransfer, foldTransfer, toTransfer } from './transfer-state.ts';
import { accounts, request } from './__fixtures__/ledger.ts';

const at = '2030-01-01T00:00:00.000Z';
const opened: StoredEvent = {
  type: 'account-opened',
  data: {
    account_id: accounts.user,
    currency: 'USD',
    kind: 'user_available',
    owner: '05e05e05-0000-4000-8000-000000000003',
    flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false },
    at,
  },
};
function entry(
  deltas: Partial<Record<'debits_posted' | 'credits_posted' | 'debits_pending' | 'credits_pending', number>>,
) {
  return {
    type: 'account-entry',
    data: {
      account_id: accounts.user,
      currency: 'USD',
      transfer_id: request().id,
      cause: 'transfer-created',
      debits_posted: 0,
      credits_posted: 0,
      debits_pending: 0,
      credits_pending: 0,
      ...deltas,
      at,
    },
  } satisfies StoredEvent;
}

describe('an account folded from its stream', () => {
  it('sums the deltas of its entries', () => {
    const state = foldAccount([
      opened,
      entry({ credits_posted: 100 }),
      entry({ debits_pending: 30 }),
      entry({ debits_pending: -30, debits_posted: 30 }),
    ]);
    expect(state).toMatchObject({
      credits_posted: 100,
      debits_posted: 30,
      debits_pending: 0,
      credits_pending: 0,
    });
  });

  it('fails closed on a history the ledger could not have written', () => {
    expect(() => foldAccount([entry({ credits_posted: 1 })])).toThrow(LedgerInvariantError);
    expect(() => foldAccount([opened, opened])).toThrow(/opened twice/);
    expect(() => foldAccount([opened, entry({ debits_pending: -1 })])).toThrow(/debits_pending/);
    expect(() =>
      foldAccount([opened, entry({ credits_posted: Number.MAX_SAFE_INTEGER }), entry({ credits_posted: 1 })]),
    ).toThrow(LedgerInvariantError);
    const foreign = entry({ credits_posted: 1 });
    foreign.data.account_id = accounts.otherUser;
    expect(() => foldAccount([opened, foreign])).toThrow(/in the stream of/);
    expect(() =>
      evolveAccount(undefined, {
        type: 'pending-posted',
        data: { transfer_id: request().id, amount: 1, at },
      }),
    ).toThrow(/does not belong/);
  });
});

describe('a transfer folded from its stream', () => {
  const id = request().id;
  const created = (pending: boolean): StoredEvent => ({
    type: 'transfer-created',
    data: {
      id,
      debit_account: accounts.user,
      credit_account: accounts.world,
      amount: 50,
      requested_amount: 50,
      currency: 'USD',
      code: 'withdrawal',
      metadata: {},
      pending,
      expires_at: null,
      balancing_debit: false,
      linked_ids: [id],
      request_hash: 'h',
      at,
    },
  });

  it('is pending until resolved, then posted, voided or expired', () => {
    expect(foldTransfer([created(true)])?.state).toBe('pending');
    expect(foldTransfer([created(false)])?.state).toBe('posted');
    const later = '2030-01-02T00:00:00.000Z';
    for (const [type, state] of [
      ['pending-posted', 'posted'],
      ['pending-voided', 'voided'],
      ['pending-expired', 'expired'],
    ] as const) {
      const record = foldTransfer([
        created(true),
        { type, data: { transfer_id: id, amount: 50, at: later } },
      ]);
      expect(record).toMatchObject({ state, resolved_at: later });
    }
  });

  it('fails closed on a second resolution, a resolution of a posted transfer, or another amount', () => {
    const posted: StoredEvent = { type: 'pending-posted', data: { transfer_id: id, amount: 50, at } };
    expect(() => foldTransfer([created(true), posted, posted])).toThrow(/not pending/);
    expect(() => foldTransfer([created(false), posted])).toThrow(/not pending/);
    expect(() => foldTransfer([created(true), { ...posted, data: { ...posted.data, amount: 49 } }])).toThrow(
      /for 49/,
    );
    expect(() => evolveTransfer(undefined, posted)).toThrow(LedgerInvariantError);
    expect(() => foldTransfer([created(true), created(true)])).toThrow(/created twice/);
  });

  it('shows callers the public fields only', () => {
    const record = foldTransfer([created(true)])!;
    expect(Object.keys(toTransfer(record)).sort()).toEqual([
      'amount',
      'code',
      'created_at',
      'credit_account',
      'currency',
      'debit_account',
      'expires_at',
      'id',
      'linked_ids',
      'metadata',
      'requested_amount',
      'state',
    ]);
  });
});
