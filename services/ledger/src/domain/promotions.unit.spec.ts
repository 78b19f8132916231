import { describe, expect, it } from 'vitest';
import { decidePromotion, promotionPeriod } from './promotions.ts';

describe('promotions budget', () => {
  it('pays a promotion that fits what is left of the period’s budget, up to the last minor unit', () => {
    expect(decidePromotion({ spent: 0, budget: 1_000, amount: 1_000 })).toEqual({ ok: true });
    expect(decidePromotion({ spent: 400, budget: 1_000, amount: 600 })).toEqual({ ok: true });
  });

  it('refuses a promotion beyond it, whole: nothing of it is paid', () => {
    expect(decidePromotion({ spent: 400, budget: 1_000, amount: 601 })).toMatchObject({
      ok: false,
      reason_code: 'PROMOTIONS_BUDGET_EXHAUSTED',
    });
    expect(decidePromotion({ spent: 0, budget: 0, amount: 1 })).toMatchObject({ ok: false });
    // A budget lowered below what was spent leaves nothing, not a negative allowance.
    expect(decidePromotion({ spent: 2_000, budget: 1_000, amount: 1 })).toMatchObject({ ok: false });
  });

  it('counts by calendar month in UTC', () => {
    expect(promotionPeriod(new Date('2026-01-31T23:59:59.999Z'))).toBe('2026-01');
    expect(promotionPeriod(new Date('2026-02-01T00:00:00.000Z'))).toBe('2026-02');
  });
});
