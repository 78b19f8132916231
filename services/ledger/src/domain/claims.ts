/**
 * What money an event may move, bounded by what the ledger learned earlier from tasks: a campaign's
 * owner (tasks.campaign.created.v1) and a claim's reserved terms (tasks.assignment.claimed.v1). An
 * event that asks for more (a forged or mistaken one) moves no more than these allow. Pure.
 */

/** The campaign → company mapping and its currency, from the campaign's creation. */
export interface CampaignOwner {
  company_id: string;
  currency: string;
}

/** A claim's terms, fixed at claim time. Amounts in minor units of `currency`. */
export interface ClaimTerms {
  campaign_id: string;
  contributor_id: string;
  currency: string;
  reward: number;
  judge_fee: number;
  max_judges: number;
  /** The submission whose reward was paid under this claim, if any. */
  rewarded_submission_id: string | null;
}

/** When a claim names no overlap, QC asks 5 judges at most (the contract's default). */
export const DEFAULT_MAX_JUDGES = 5;

export type Refused = { ok: false; reason_code: string; detail: string };
const refuse = (reason_code: string, detail: string): Refused => ({ ok: false, reason_code, detail });

/** A funding request debits only the company that owns the campaign, in the campaign's currency. */
export function decideFundingOwner(
  owner: CampaignOwner | undefined,
  request: { campaign_id: string; company_id: string; currency: string },
): { ok: true } | Refused {
  if (!owner) return refuse('CAMPAIGN_UNKNOWN', `campaign ${request.campaign_id} was never created`);
  if (owner.company_id !== request.company_id) {
    return refuse('CAMPAIGN_NOT_OWNED', `campaign ${request.campaign_id} belongs to another company`);
  }
  if (owner.currency !== request.currency) {
    return refuse('CURRENCY_MISMATCH', `campaign ${request.campaign_id} is in ${owner.currency}`);
  }
  return { ok: true };
}

/**
 * An approval's reward: once per claim, to the claim's contributor, in its campaign and currency,
 * and never more than the claim reserved (an approval naming more is paid the reserved reward).
 */
export function decideReward(
  claim: ClaimTerms,
  approval: {
    submission_id: string;
    campaign_id: string;
    contributor_id: string;
    reward: { amount: number; currency: string };
  },
): { ok: true; amount: number } | Refused {
  if (
    claim.campaign_id !== approval.campaign_id ||
    claim.contributor_id !== approval.contributor_id ||
    claim.currency !== approval.reward.currency
  ) {
    return refuse(
      'CLAIM_MISMATCH',
      'the approval names another campaign, contributor or currency than its claim',
    );
  }
  if (claim.rewarded_submission_id !== null && claim.rewarded_submission_id !== approval.submission_id) {
    return refuse(
      'CLAIM_ALREADY_PAID',
      `the claim's reward was paid to submission ${claim.rewarded_submission_id}`,
    );
  }
  return { ok: true, amount: Math.min(approval.reward.amount, claim.reward) };
}

/**
 * A judge's fee: in the claim's campaign and currency, never above the claim's fee, one per
 * (claim, judge), and at most `max_judges` per claim. `paid` are the judges already paid under the
 * claim, with the review each was paid for. A refusal names the amount tasks booked as owed for
 * this fee (the claim's fee at most: tasks books it from the claim too), so its answer settles it.
 */
export function decideJudgeFee(
  claim: ClaimTerms,
  paid: { judge_id: string; review_id: string }[],
  earned: {
    review_id: string;
    campaign_id: string;
    judge_id: string;
    fee: { amount: number; currency: string };
  },
): { ok: true; amount: number } | (Refused & { amount: number }) {
  const amount = Math.min(earned.fee.amount, claim.judge_fee);
  const refuseFee = (reason_code: string, detail: string) => ({ ...refuse(reason_code, detail), amount });
  if (claim.campaign_id !== earned.campaign_id || claim.currency !== earned.fee.currency) {
    return refuseFee('CLAIM_MISMATCH', 'the fee names another campaign or currency than its claim');
  }
  if (amount === 0) return refuseFee('NO_JUDGE_FEE', 'the claim reserved no judge fee');
  // A redelivery of a fee already paid is paid again (a replay of the same transfer).
  if (paid.some((p) => p.review_id === earned.review_id && p.judge_id === earned.judge_id)) {
    return { ok: true, amount };
  }
  if (paid.some((p) => p.judge_id === earned.judge_id)) {
    return refuseFee('JUDGE_ALREADY_PAID', `judge ${earned.judge_id} was already paid under this claim`);
  }
  if (paid.length >= claim.max_judges) {
    return refuseFee('MAX_JUDGES_PAID', `the claim pays at most ${claim.max_judges} judge fees`);
  }
  return { ok: true, amount };
}
