import { decider } from '@tessera/service-kit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideOrRefuse, holding } from './__fixtures__/ledger.ts';
import type { AccountState } from './account-state.ts';
import { accountIds } from './accounts.ts';
import { type CampaignFunding, fundingCost, fundingTransfers, platformFee } from './fees.ts';

describe('platform fee', () => {
  it('is the rate in basis points of the budget', () => {
    expect(platformFee(50_000, 1000)).toBe(5_000);
    expect(platformFee(12_345, 250)).toBe(308); // 308.625 → 308
  });

  it('rounds down to a whole minor unit: never more than the rate says', () => {
    expect(platformFee(9, 1000)).toBe(0); // 0.9 → 0
    expect(platformFee(19, 1000)).toBe(1); // 1.9 → 1
    expect(platformFee(1, 9_999)).toBe(0);
  });

  it('is zero at 0 bps and the whole budget at 10 000 bps', () => {
    expect(platformFee(77_777, 0)).toBe(0);
    expect(platformFee(77_777, 10_000)).toBe(77_777);
  });

  it('stays exact for budgets where budget × rate leaves the safe integers', () => {
    const budget = Number.MAX_SAFE_INTEGER;
    expect(platformFee(budget, 1000)).toBe(Number((BigInt(budget) * 1000n) / 10_000n));
    expect(platformFee(budget, 1000)).toBe(900_719_925_474_099);
  });

  it('refuses fractional or negative amounts and rates out of range', () => {
    expect(() => platformFee(10.5, 1000)).toThrow(RangeError);
    expect(() => platformFee(-1, 1000)).toThrow(RangeError);
    expect(() => platformFee(100, 10_001)).toThrow(RangeError);
    expect(() => platformFee(100, 2.5)).toThrow(RangeError);
  });

  it('never exceeds the exact fee and misses it by less than one minor unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 10_000 }), (budget, bps) => {
        const fee = platformFee(budget, bps);
        const exact = (budget * bps) / 10_000;
        return Number.isInteger(fee) && fee <= exact && exact - fee < 1;
      }),
    );
  });
});

describe('funding cost', () => {
  it('debits the company for the budget plus the fee', () => {
    expect(fundingCost(50_000, 1000)).toEqual({ budget: 50_000, fee: 5_000, total: 55_000 });
    expect(fundingCost(9, 1000)).toEqual({ budget: 9, fee: 0, total: 9 });
  });
});

describe('the platform fee on campaign funding', () => {
  const companyId = '0c0c0c0c-0000-4000-8000-000000000001';
  const campaignId = '0ca0ca0c-0000-4000-8000-000000000002';
  const credits = accountIds.companyCredits(companyId);
  const funding = (budget: number, feeBps = 1000): CampaignFunding => ({
    fundingId: 'f0f0f0f0-0000-4000-8000-000000000001',
    feeId: 'fee0fee0-0000-4000-8000-000000000002',
    campaignId,
    companyId,
    budget: { amount: budget, currency: 'USD' },
    feeBps,
    metadata: { campaign_id: campaignId },
  });
  const companyHolding = (amount: number) => holding(credits, amount);
  const fund = decider((accounts: ReadonlyMap<string, AccountState>, command: CampaignFunding) =>
    decideOrRefuse(accounts, fundingTransfers(command)),
  );

  it('moves the budget into escrow and the fee into revenue, both from the company, linked', () => {
    fund
      .given(companyHolding(55_000))
      .when(funding(50_000))
      .thenMatches((decided) => {
        const transfers = decided;
        expect(transfers.map((t) => [t.debit_account, t.credit_account, t.amount, t.code])).toEqual([
          [credits, accountIds.campaignBudget(campaignId), 50_000, 'campaign_funding'],
          [credits, accountIds.platformRevenue, 5_000, 'platform_fee'],
        ]);
        expect(transfers.every((t) => t.linked_ids.length === 2)).toBe(true);
      });
  });

  it('refuses the budget too when the company cannot also pay the fee', () => {
    const refusal = fund
      .given(companyHolding(54_999))
      .when(funding(50_000))
      .thenRefuses('INSUFFICIENT_FUNDS', 'conflict');
    expect(refusal.detail).toMatch(/linked chain of 2: none was recorded/);
  });

  it('is no transfer at all when the fee rounds to zero or the rate is 0 bps', () => {
    expect(fundingTransfers(funding(9)).map((t) => t.code)).toEqual(['campaign_funding']);
    expect(fundingTransfers(funding(50_000, 0)).map((t) => t.code)).toEqual(['campaign_funding']);
    fund
      .given(companyHolding(9))
      .when(funding(9))
      .thenMatches((decided) => {
        expect(decided.map((t) => t.amount)).toEqual([9]);
      });
  });
});
