import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { decideOrRefuse, holding } from './__fixtures__/ledger.ts';
import type { AccountState } from './account-state.ts';
import { accountIds } from './accounts.ts';
import { type Adjustment, adjustmentTransfer } from './adjustments.ts';

const userId = '05e05e05-0000-4000-8000-000000000003';
const wallet = accountIds.userAvailable(userId);
const walletHolding = (amount: number, held = 0) => holding(wallet, amount, held);

const adjustment = (kind: Adjustment['kind'], amount: number): Adjustment => ({
  transferId: '7a0d0000-0000-4000-8000-000000000001',
  userId,
  kind,
  amount,
  currency: 'USD',
  reason: 'r',
  recordedBy: '0a0a0a0a-0000-4000-8000-000000000009',
});

const adjust = decider((accounts: ReadonlyMap<string, AccountState>, command: Adjustment) =>
  decideOrRefuse(accounts, [adjustmentTransfer(command)]),
);

describe('admin adjustments', () => {
  it('a penalty cannot overdraw a wallet', () => {
    adjust
      .given(walletHolding(1_000))
      .when(adjustment('penalty', 1_001))
      .thenRefuses('INSUFFICIENT_FUNDS', 'conflict');
    // What a pending withdrawal holds is not there to take.
    adjust
      .given(walletHolding(1_000, 300))
      .when(adjustment('penalty', 701))
      .thenRefuses('INSUFFICIENT_FUNDS');
    // A wallet never credited has nothing to take.
    adjust.given(new Map()).when(adjustment('penalty', 1)).thenRefuses('INSUFFICIENT_FUNDS', 'conflict');
  });

  it('a penalty takes up to everything the wallet can give, into revenue', () => {
    adjust
      .given(walletHolding(1_000, 300))
      .when(adjustment('penalty', 700))
      .thenMatches((decided) => {
        const [transfer] = decided;
        expect(transfer).toMatchObject({
          debit_account: wallet,
          credit_account: accountIds.platformRevenue,
          amount: 700,
          code: 'penalty',
        });
      });
  });

  it('a bonus comes from promotions, which may run a debit balance, into any wallet', () => {
    adjust
      .given(new Map())
      .when(adjustment('bonus', 5_000))
      .thenMatches((decided) => {
        const [transfer] = decided;
        expect(transfer).toMatchObject({
          debit_account: accountIds.platformPromotions,
          credit_account: wallet,
          amount: 5_000,
          code: 'bonus',
        });
      });
  });

  it('records why, who asked and for whom in the metadata', () => {
    expect(adjustmentTransfer(adjustment('penalty', 5)).metadata).toEqual({
      origin: 'adjustment',
      kind: 'penalty',
      user_id: userId,
      reason: 'r',
      recorded_by: '0a0a0a0a-0000-4000-8000-000000000009',
    });
  });
});
