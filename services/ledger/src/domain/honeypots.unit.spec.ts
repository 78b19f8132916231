import { describe, expect, it } from 'vitest';
import { accountIds } from './accounts.ts';
import type { ClaimTerms } from './claims.ts';
import { decideHoneypotFee, honeypotFeeTransfers } from './honeypots.ts';

const campaign = '00000000-0000-4000-8000-00000000000c';
const claim: ClaimTerms = {
  campaign_id: campaign,
  contributor_id: '00000000-0000-4000-8000-0000000000a1',
  currency: 'USD',
  reward: 1_000,
  judge_fee: 50,
  max_judges: 2,
  rewarded_submission_id: 's0',
};
const usd = (amount: number) => ({ amount, currency: 'USD' });
const earned = (overrides: Partial<Parameters<typeof decideHoneypotFee>[2]> = {}) => ({
  review_id: 'r1',
  submission_id: 's1',
  campaign_id: campaign,
  judge_id: 'j1',
  fee: usd(50),
  ...overrides,
});

describe('decideHoneypotFee', () => {
  it('pays the fee asked, up to the claim’s judge fee', () => {
    expect(decideHoneypotFee(claim, [], earned())).toEqual({ ok: true, amount: 50 });
    expect(decideHoneypotFee(claim, [], earned({ fee: usd(30) }))).toEqual({ ok: true, amount: 30 });
  });

  it('refuses, rather than cuts, a fee above the claim’s judge fee, and any fee on a claim that reserved none', () => {
    expect(decideHoneypotFee(claim, [], earned({ fee: usd(51) }))).toMatchObject({
      ok: false,
      reason_code: 'CLAIM_FEE_EXCEEDED',
    });
    expect(decideHoneypotFee({ ...claim, judge_fee: 0 }, [], earned())).toMatchObject({
      reason_code: 'NO_JUDGE_FEE',
    });
  });

  it('refuses a fee in another currency than the claim’s, or for another campaign', () => {
    expect(decideHoneypotFee(claim, [], earned({ fee: { amount: 50, currency: 'EUR' } }))).toMatchObject({
      reason_code: 'CURRENCY_MISMATCH',
    });
    expect(decideHoneypotFee(claim, [], earned({ campaign_id: 'elsewhere' }))).toMatchObject({
      reason_code: 'CLAIM_MISMATCH',
    });
  });

  it('pays once per (judge, submission): another review of the same case is refused, a replay is paid again', () => {
    const paid = [{ review_id: 'r1', judge_id: 'j1', submission_id: 's1' }];
    expect(decideHoneypotFee(claim, paid, earned())).toEqual({ ok: true, amount: 50 });
    expect(decideHoneypotFee(claim, paid, earned({ review_id: 'r2' }))).toMatchObject({
      reason_code: 'HONEYPOT_FEE_ALREADY_PAID',
    });
    // Another judge of the case, or the same judge on another case, is paid.
    expect(decideHoneypotFee(claim, paid, earned({ review_id: 'r3', judge_id: 'j2' }))).toMatchObject({
      ok: true,
    });
    expect(decideHoneypotFee(claim, paid, earned({ review_id: 'r4', submission_id: 's2' }))).toMatchObject({
      ok: true,
    });
  });

  it('refuses a judge the claim paid as one of its own judges', () => {
    expect(decideHoneypotFee(claim, [], earned(), true)).toMatchObject({
      ok: false,
      reason_code: 'HONEYPOT_FEE_ALREADY_PAID',
    });
    expect(decideHoneypotFee(claim, [], earned(), false)).toEqual({ ok: true, amount: 50 });
  });

  it('refuses a review already paid for another judge or case (its transfers name that one)', () => {
    const paid = [{ review_id: 'r1', judge_id: 'j1', submission_id: 's1' }];
    expect(decideHoneypotFee(claim, paid, earned({ judge_id: 'j2' }))).toMatchObject({
      reason_code: 'HONEYPOT_FEE_ALREADY_PAID',
    });
  });
});

describe('honeypotFeeTransfers', () => {
  it('funds the campaign’s budget from platform:quality and pays the judge from it, with one metadata', () => {
    const metadata = { review_id: 'r1', submission_id: 's1', campaign_id: campaign, judge_id: 'j1' };
    const judge = '00000000-0000-4000-8000-0000000000f1';
    const transfers = honeypotFeeTransfers({
      fundingId: 'f',
      feeId: 'p',
      campaignId: campaign,
      judgeId: judge,
      amount: usd(50),
      metadata,
    });
    expect(
      transfers.map((t) => [t.id, t.debit_account, t.credit_account, t.amount, t.code, t.metadata]),
    ).toEqual([
      [
        'f',
        accountIds.platformQuality,
        accountIds.campaignBudget(campaign),
        50,
        'honeypot_funding',
        metadata,
      ],
      ['p', accountIds.campaignBudget(campaign), accountIds.userAvailable(judge), 50, 'judge_fee', metadata],
    ]);
  });
});
