import { describe, expect, it } from 'vitest';
import { accountIds } from '../domain/accounts.ts';
import type { StoredEventData } from '../domain/events.ts';
import {
  accountKey,
  accountsToLoad,
  emptyChanges,
  emptyState,
  evolve,
  ownerKey,
  type ProjectedEvent,
  ProjectionInvariantError,
  projectedEvent,
  transfersToLoad,
} from './evolve.ts';

const user = '0190f0c4-0000-7000-8000-000000000001';
const campaign = '0190f0c4-0000-7000-8000-000000000002';
const company = '0190f0c4-0000-7000-8000-000000000003';
let next = 0;
const id = () => `0190f0c4-0000-7000-8000-1${String((next += 1)).padStart(11, '0')}`;
const at = (minute: number) => `2025-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;

function created(fields: Partial<StoredEventData<'transfer-created'>> = {}): ProjectedEvent {
  const transferId = fields.id ?? id();
  return {
    type: 'transfer-created',
    data: {
      id: transferId,
      debit_account: accountIds.world,
      credit_account: accountIds.userAvailable(user),
      amount: 1_000,
      requested_amount: fields.amount ?? 1_000,
      currency: 'USD',
      code: 'bonus',
      metadata: {},
      pending: false,
      expires_at: null,
      balancing_debit: false,
      linked_ids: [transferId],
      request_hash: 'h',
      at: at(0),
      ...fields,
    },
  };
}

const resolved = (
  type: 'pending-posted' | 'pending-voided' | 'pending-expired',
  transferId: string,
  amount: number,
  minute = 5,
): ProjectedEvent => ({ type, data: { transfer_id: transferId, amount, at: at(minute) } });

function fold(events: ProjectedEvent[]) {
  const state = emptyState();
  const changes = emptyChanges();
  for (const event of events) evolve(state, changes, event);
  return { state, changes };
}

describe('projection fold', () => {
  it('posts a transfer to both accounts, with a statement line each and running balances', () => {
    const { state, changes } = fold([created({ amount: 1_000 }), created({ amount: 250, at: at(1) })]);
    expect(state.accounts.get(accountKey(accountIds.userAvailable(user), 'USD'))).toMatchObject({
      kind: 'user_available',
      owner: user,
      credits_posted: 1_250,
      debits_posted: 0,
      line_count: 2,
      updated_at: at(1),
    });
    expect(state.accounts.get(accountKey(accountIds.world, 'USD'))).toMatchObject({
      kind: 'world',
      owner: null,
      debits_posted: 1_250,
    });
    const userLines = changes.lines.filter((l) => l.account_id === accountIds.userAvailable(user));
    expect(userLines.map((l) => [l.seq, l.direction, l.phase, l.amount, l.balance, l.available])).toEqual([
      [1, 'credit', 'posted', 1_000, 1_000, 1_000],
      [2, 'credit', 'posted', 250, 1_250, 1_250],
    ]);
    const worldLines = changes.lines.filter((l) => l.account_id === accountIds.world);
    expect(worldLines.map((l) => [l.direction, l.balance, l.counterparty])).toEqual([
      ['debit', -1_000, accountIds.userAvailable(user)],
      ['debit', -1_250, accountIds.userAvailable(user)],
    ]);
    expect(state.wallets.get(ownerKey(user, 'USD'))).toMatchObject({
      available: 1_250,
      held: 0,
      total_earned: 1_250,
      total_withdrawn: 0,
    });
  });

  it('holds a withdrawal as pending, then posts it: held, then withdrawn', () => {
    const hold = created({
      debit_account: accountIds.userAvailable(user),
      credit_account: accountIds.world,
      amount: 400,
      code: 'withdrawal',
      pending: true,
      at: at(2),
    });
    const holdId = hold.type === 'transfer-created' ? hold.data.id : '';
    const { state: held } = fold([created({ amount: 1_000 }), hold]);
    expect(held.wallets.get(ownerKey(user, 'USD'))).toMatchObject({
      available: 600,
      held: 400,
      total_withdrawn: 0,
    });
    expect(held.transfers.get(holdId)?.state).toBe('pending');

    const { state, changes } = fold([
      created({ amount: 1_000 }),
      hold,
      resolved('pending-posted', holdId, 400),
    ]);
    expect(state.wallets.get(ownerKey(user, 'USD'))).toMatchObject({
      available: 600,
      held: 0,
      total_earned: 1_000,
      total_withdrawn: 400,
    });
    expect(state.accounts.get(accountKey(accountIds.userAvailable(user), 'USD'))).toMatchObject({
      debits_posted: 400,
      debits_pending: 0,
    });
    expect(state.transfers.get(holdId)).toMatchObject({ state: 'posted', resolved_at: at(5) });
    const phases = changes.lines
      .filter((l) => l.account_id === accountIds.userAvailable(user))
      .map((l) => [l.phase, l.amount, l.balance, l.available]);
    expect(phases).toEqual([
      ['posted', 1_000, 1_000, 1_000],
      ['pending', 400, 1_000, 600],
      ['posted', 400, 600, 600],
    ]);
  });

  it.each(['pending-voided', 'pending-expired'] as const)('releases a hold on %s', (type) => {
    const hold = created({
      debit_account: accountIds.userAvailable(user),
      credit_account: accountIds.world,
      amount: 400,
      code: 'withdrawal',
      pending: true,
    });
    const holdId = hold.type === 'transfer-created' ? hold.data.id : '';
    const { state, changes } = fold([created({ amount: 1_000 }), hold, resolved(type, holdId, 400)]);
    expect(state.wallets.get(ownerKey(user, 'USD'))).toMatchObject({
      available: 1_000,
      held: 0,
      total_withdrawn: 0,
    });
    expect(state.transfers.get(holdId)?.state).toBe(type === 'pending-voided' ? 'voided' : 'expired');
    const last = changes.lines.filter((l) => l.account_id === accountIds.userAvailable(user)).at(-1);
    expect(last).toMatchObject({ phase: type.slice('pending-'.length), amount: 400, available: 1_000 });
  });

  it('keeps a campaign budget: funded, spent, returned, remaining, and its company', () => {
    const budget = accountIds.campaignBudget(campaign);
    const { state } = fold([
      created({
        debit_account: accountIds.companyCredits(company),
        credit_account: budget,
        amount: 10_000,
        code: 'campaign_funding',
        metadata: { company_id: company, campaign_id: campaign },
      }),
      created({
        debit_account: budget,
        credit_account: accountIds.userAvailable(user),
        amount: 700,
        code: 'reward',
      }),
      created({
        debit_account: budget,
        credit_account: accountIds.userAvailable(user),
        amount: 300,
        code: 'judge_fee',
      }),
      created({
        debit_account: budget,
        credit_account: accountIds.companyCredits(company),
        amount: 9_000,
        requested_amount: Number.MAX_SAFE_INTEGER,
        balancing_debit: true,
        code: 'refund',
      }),
    ]);
    expect(state.campaigns.get(ownerKey(campaign, 'USD'))).toMatchObject({
      company_id: company,
      funded: 10_000,
      spent: 1_000,
      returned: 9_000,
      remaining: 0,
    });
    expect(state.wallets.get(ownerKey(user, 'USD'))?.total_earned).toBe(1_000);
  });

  it('records a zero balancing debit as a transfer that touches no balance', () => {
    const sweep = created({
      debit_account: accountIds.campaignBudget(campaign),
      credit_account: accountIds.companyCredits(company),
      amount: 0,
      balancing_debit: true,
      code: 'refund',
    });
    const { state, changes } = fold([sweep]);
    expect(state.transfers.size).toBe(1);
    expect(state.accounts.size).toBe(0);
    expect(changes.lines).toEqual([]);
  });

  it('keeps currencies apart', () => {
    const { state } = fold([created({ amount: 100 }), created({ amount: 7, currency: 'EUR' })]);
    expect(state.wallets.get(ownerKey(user, 'USD'))?.available).toBe(100);
    expect(state.wallets.get(ownerKey(user, 'EUR'))?.available).toBe(7);
  });

  it('fails closed on a history the ledger could not have written', () => {
    const first = created();
    expect(() => fold([first, first])).toThrow(ProjectionInvariantError);
    expect(() => fold([resolved('pending-posted', id(), 1)])).toThrow(/unknown transfer/);
    const posted = created();
    const postedId = posted.type === 'transfer-created' ? posted.data.id : '';
    expect(() => fold([posted, resolved('pending-voided', postedId, 1_000)])).toThrow(/which is posted/);
    expect(() => fold([created({ debit_account: 'nobody' })])).toThrow(/not an account of the chart/);
  });
});

describe('what a batch needs loaded', () => {
  it('is the pending transfers it resolves but did not create, and every account it touches', () => {
    const fresh = created({ pending: true });
    const freshId = fresh.type === 'transfer-created' ? fresh.data.id : '';
    const older = id();
    const events = [fresh, resolved('pending-posted', freshId, 1_000), resolved('pending-voided', older, 5)];
    expect(transfersToLoad(events)).toEqual([older]);
    const loaded = fold([created({ id: older, credit_account: accountIds.platformRevenue })]).state.transfers;
    expect(accountsToLoad(events, loaded).map((a) => a.account_id)).toEqual([
      accountIds.world,
      accountIds.userAvailable(user),
      accountIds.platformRevenue,
    ]);
  });

  it('skips stored events the projections do not read, and validates the rest', () => {
    expect(projectedEvent({ type: 'account-entry', data: {} })).toBeUndefined();
    expect(() => projectedEvent({ type: 'transfer-created', data: { id: 'x' } })).toThrow();
  });
});
