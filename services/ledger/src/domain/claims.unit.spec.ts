import { describe, expect, it } from 'vitest';
import { type ClaimTerms, decideFundingOwner, decideJudgeFee, decideReward } from './claims.ts';

const campaign = '00000000-0000-4000-8000-00000000000c';
const company = '00000000-0000-4000-8000-0000000000c0';
const contributor = '00000000-0000-4000-8000-0000000000a1';
const claim: ClaimTerms = {
  campaign_id: campaign,
  contributor_id: contributor,
  currency: 'USD',
  reward: 1_000,
  judge_fee: 50,
  max_judges: 2,
  rewarded_submission_id: null,
};
const usd = (amount: number) => ({ amount, currency: 'USD' });

describe('decideFundingOwner', () => {
  const request = { campaign_id: campaign, company_id: company, currency: 'USD' };
  it('funds only from the company that created the campaign, in its currency', () => {
    const owner = { company_id: company, currency: 'USD' };
    expect(decideFundingOwner(owner, request)).toEqual({ ok: true });
    expect(decideFundingOwner(owner, { ...request, company_id: contributor })).toMatchObject({
      reason_code: 'CAMPAIGN_NOT_OWNED',
    });
    expect(decideFundingOwner(owner, { ...request, currency: 'EUR' })).toMatchObject({
      reason_code: 'CURRENCY_MISMATCH',
    });
    expect(decideFundingOwner(undefined, request)).toMatchObject({ reason_code: 'CAMPAIGN_UNKNOWN' });
  });
});

describe('decideReward', () => {
  const approval = {
    submission_id: 's1',
    campaign_id: campaign,
    contributor_id: contributor,
    reward: usd(1_000),
  };
  it('pays at most the reward the claim reserved', () => {
    expect(decideReward(claim, { ...approval, reward: usd(9_999) })).toEqual({ ok: true, amount: 1_000 });
    expect(decideReward(claim, { ...approval, reward: usd(400) })).toEqual({ ok: true, amount: 400 });
  });
  it('pays once per claim: another submission under a paid claim gets nothing, a replay is paid again', () => {
    const paid = { ...claim, rewarded_submission_id: 's1' };
    expect(decideReward(paid, approval)).toEqual({ ok: true, amount: 1_000 });
    expect(decideReward(paid, { ...approval, submission_id: 's2' })).toMatchObject({
      reason_code: 'CLAIM_ALREADY_PAID',
    });
  });
  it('refuses an approval naming another contributor, campaign or currency than its claim', () => {
    expect(decideReward(claim, { ...approval, contributor_id: company })).toMatchObject({
      reason_code: 'CLAIM_MISMATCH',
    });
    expect(decideReward(claim, { ...approval, campaign_id: company })).toMatchObject({
      reason_code: 'CLAIM_MISMATCH',
    });
    expect(decideReward(claim, { ...approval, reward: { amount: 1, currency: 'EUR' } })).toMatchObject({
      reason_code: 'CLAIM_MISMATCH',
    });
  });
});

describe('decideJudgeFee', () => {
  const earned = (judge: string, review = `r-${judge}`, amount = 50) => ({
    review_id: review,
    campaign_id: campaign,
    judge_id: judge,
    fee: usd(amount),
  });
  it('pays at most the claim’s fee, and nothing when the claim reserved none', () => {
    expect(decideJudgeFee(claim, [], earned('j1', 'r1', 5_000))).toEqual({ ok: true, amount: 50 });
    expect(decideJudgeFee({ ...claim, judge_fee: 0 }, [], earned('j1'))).toMatchObject({
      reason_code: 'NO_JUDGE_FEE',
    });
  });
  it('pays one fee per (claim, judge) and at most max_judges fees, replays included', () => {
    const paid = [
      { judge_id: 'j1', review_id: 'r-j1' },
      { judge_id: 'j2', review_id: 'r-j2' },
    ];
    expect(decideJudgeFee(claim, paid, earned('j1'))).toEqual({ ok: true, amount: 50 });
    expect(decideJudgeFee(claim, paid.slice(0, 1), earned('j1', 'other'))).toMatchObject({
      reason_code: 'JUDGE_ALREADY_PAID',
    });
    expect(decideJudgeFee(claim, paid, earned('j3'))).toMatchObject({ reason_code: 'MAX_JUDGES_PAID' });
  });
});
