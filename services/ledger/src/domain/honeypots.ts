import { accountIds } from './accounts.ts';
import type { ClaimTerms, Refused } from './claims.ts';
import type { TransferRequest } from './transfers.ts';

/**
 * A judge's fee for a honeypot review (a decided case QC serves again to check judges). The case's
 * campaign paid its own judges already, so the platform funds this one (`platform:quality`), through
 * the campaign's budget: the judge's statement line is a `judge_fee` from the campaign, as for any
 * review, and nothing on it tells the judge the review was a check. Pure.
 */

/** A honeypot fee the ledger decided to pay (a `ledger_honeypot_fees` row). */
export interface HoneypotFeeRecord {
  review_id: string;
  judge_id: string;
  submission_id: string;
}

export interface HoneypotFeeEarned {
  review_id: string;
  submission_id: string;
  campaign_id: string;
  judge_id: string;
  fee: { amount: number; currency: string };
}

/**
 * Pays a honeypot fee only as far as the case's claim allows: in the claim's campaign and currency,
 * never above the claim's judge fee (a refusal, not a cut: the fee is the case's own, so a larger
 * one is a disagreement to look at), once per (judge, submission), and never to a judge the claim
 * paid as one of its own. `recorded` are the fees
 * already decided for this review or for this judge on this submission; a redelivery of a decided
 * review is paid again (a replay of the same transfers).
 */
export function decideHoneypotFee(
  claim: ClaimTerms,
  recorded: readonly HoneypotFeeRecord[],
  earned: HoneypotFeeEarned,
  /** The judge already holds a place among the claim's own paid judges (`ledger_claim_judge_fees`). */
  judgedForReal = false,
): { ok: true; amount: number } | Refused {
  const refuse = (reason_code: string, detail: string): Refused => ({ ok: false, reason_code, detail });
  const { amount, currency } = earned.fee;
  if (claim.campaign_id !== earned.campaign_id) {
    return refuse('CLAIM_MISMATCH', 'the fee names another campaign than its claim');
  }
  if (claim.currency !== currency) {
    return refuse('CURRENCY_MISMATCH', `the claim's fees are in ${claim.currency}, not ${currency}`);
  }
  if (claim.judge_fee === 0) return refuse('NO_JUDGE_FEE', 'the claim reserved no judge fee');
  if (amount > claim.judge_fee) {
    return refuse('CLAIM_FEE_EXCEEDED', `the claim's judge fee is ${claim.judge_fee}, not ${amount}`);
  }
  // QC never serves a judge a case they judged; should it, the campaign paid them for it already.
  if (judgedForReal) {
    return refuse(
      'HONEYPOT_FEE_ALREADY_PAID',
      `judge ${earned.judge_id} was paid a real fee under this claim: a check of their own case earns nothing more`,
    );
  }
  const same = (r: HoneypotFeeRecord) =>
    r.judge_id === earned.judge_id && r.submission_id === earned.submission_id;
  const own = recorded.find((r) => r.review_id === earned.review_id);
  if (own) {
    return same(own)
      ? { ok: true, amount }
      : refuse('HONEYPOT_FEE_ALREADY_PAID', `review ${earned.review_id} was paid for another judge or case`);
  }
  if (recorded.some(same)) {
    return refuse(
      'HONEYPOT_FEE_ALREADY_PAID',
      `judge ${earned.judge_id} was paid a honeypot fee for submission ${earned.submission_id} already`,
    );
  }
  return { ok: true, amount };
}

/**
 * The linked chain that pays a honeypot fee: `platform:quality` → the campaign's budget
 * (`honeypot_funding`), then the budget → the judge (`judge_fee`, with the metadata a real fee
 * carries). Linked, they succeed or fail together, so the campaign's balance never moves.
 */
export function honeypotFeeTransfers(fee: {
  fundingId: string;
  feeId: string;
  campaignId: string;
  judgeId: string;
  amount: { amount: number; currency: string };
  metadata: Record<string, string>;
}): TransferRequest[] {
  const budget = accountIds.campaignBudget(fee.campaignId);
  const { amount, currency } = fee.amount;
  return [
    {
      id: fee.fundingId,
      debit_account: accountIds.platformQuality,
      credit_account: budget,
      amount,
      currency,
      code: 'honeypot_funding',
      metadata: fee.metadata,
    },
    {
      id: fee.feeId,
      debit_account: budget,
      credit_account: accountIds.userAvailable(fee.judgeId),
      amount,
      currency,
      code: 'judge_fee',
      metadata: fee.metadata,
    },
  ];
}
