/**
 * The promotions budget: what the platform may spend on bonuses and referral rewards (events from
 * engagement) per calendar month (UTC) and currency. A promotion beyond it moves no money and is
 * recorded as refused. Pure.
 */

import type { Refused } from './claims.ts';

/** The period a promotion counts against: its calendar month in UTC, `YYYY-MM`. */
export function promotionPeriod(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** Whether a promotion fits what is left of its period's budget: it is paid whole or not at all. */
export function decidePromotion(input: {
  /** What promotions already paid in the period and currency, minor units. */
  spent: number;
  /** The period's budget in that currency, minor units. */
  budget: number;
  amount: number;
}): { ok: true } | Refused {
  const left = Math.max(0, input.budget - input.spent);
  if (input.amount > left) {
    return {
      ok: false,
      reason_code: 'PROMOTIONS_BUDGET_EXHAUSTED',
      detail: `the promotion asks ${input.amount}, the period's budget has ${left} left`,
    };
  }
  return { ok: true };
}
