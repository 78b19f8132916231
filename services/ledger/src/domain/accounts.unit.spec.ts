import { describe, expect, it } from 'vitest';
import { accountIds, flagsFor, parseAccountId } from './accounts.ts';

const id = '0c0c0c0c-0000-4000-8000-000000000001';

describe('the chart of accounts', () => {
  it('parses every account of the chart, with its kind and owner', () => {
    expect(parseAccountId('world')).toEqual({ id: 'world', kind: 'world', owner: null });
    expect(parseAccountId('platform:revenue')).toMatchObject({ kind: 'platform_revenue', owner: null });
    expect(parseAccountId('platform:promotions')).toMatchObject({ kind: 'platform_promotions', owner: null });
    expect(parseAccountId('platform:quality')).toMatchObject({ kind: 'platform_quality', owner: null });
    expect(parseAccountId(accountIds.companyCredits(id))).toMatchObject({
      kind: 'company_credits',
      owner: id,
    });
    expect(parseAccountId(accountIds.campaignBudget(id))).toMatchObject({
      kind: 'campaign_budget',
      owner: id,
    });
    expect(parseAccountId(accountIds.userAvailable(id))).toMatchObject({ kind: 'user_available', owner: id });
  });

  it('refuses anything else: other kinds or purposes, extra parts, ids that are not lower-case UUIDs', () => {
    for (const bad of [
      'bank',
      'platform:other',
      `company:${id}:budget`,
      `user:${id}:credits`,
      `user:${id}:available:x`,
      `x:user:${id}:available`,
      `user:${id.toUpperCase()}:available`,
      'user:not-a-uuid:available',
      `__proto__:${id}:credits`,
      `constructor:${id}:credits`,
      '',
    ]) {
      expect(parseAccountId(bad), bad).toBeUndefined();
    }
  });

  it('lets only world and the expenses (promotions, quality) run a debit balance', () => {
    expect(flagsFor('world').debits_must_not_exceed_credits).toBe(false);
    expect(flagsFor('platform_promotions').debits_must_not_exceed_credits).toBe(false);
    expect(flagsFor('platform_quality').debits_must_not_exceed_credits).toBe(false);
    for (const kind of [
      'company_credits',
      'campaign_budget',
      'user_available',
      'platform_revenue',
    ] as const) {
      expect(flagsFor(kind).debits_must_not_exceed_credits, kind).toBe(true);
    }
  });
});
