import { accountIds } from './accounts.ts';
import type { TransferRequest } from './transfers.ts';

const BPS = 10_000n;

/**
 * The platform fee on a campaign budget: `budget × bps / 10 000`, rounded down to a whole minor
 * unit (never more than the rate says). Computed in bigint so the product cannot lose precision.
 */
export function platformFee(budget: number, bps: number): number {
  if (!Number.isSafeInteger(budget) || budget < 0)
    throw new RangeError(`budget ${budget} is not minor units`);
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000)
    throw new RangeError(`fee rate ${bps} bps is not 0..10000`);
  return Number((BigInt(budget) * BigInt(bps)) / BPS);
}

/** What funding a campaign takes from the company's credits: the budget plus the fee, together. */
export function fundingCost(budget: number, bps: number): { budget: number; fee: number; total: number } {
  const fee = platformFee(budget, bps);
  return { budget, fee, total: budget + fee };
}

/** A campaign's funding, as tasks asks for it; the ids derive from the request (see transfer-ids). */
export interface CampaignFunding {
  fundingId: string;
  feeId: string;
  campaignId: string;
  companyId: string;
  budget: { amount: number; currency: string };
  /** The platform fee rate, basis points. */
  feeBps: number;
  metadata: Record<string, string>;
}

/**
 * The transfers that fund a campaign, as one linked command: the budget from the company's
 * credits into the campaign's escrow (`campaign_funding`) and the platform fee from the same
 * credits into revenue (`platform_fee`). Linked, they succeed or fail together: a company that
 * cannot pay the fee does not get the budget either. A zero fee (a tiny budget, a 0 bps rate) is
 * no transfer at all, as the ledger refuses to move 0.
 */
export function fundingTransfers(funding: CampaignFunding): TransferRequest[] {
  const cost = fundingCost(funding.budget.amount, funding.feeBps);
  const from = accountIds.companyCredits(funding.companyId);
  const requests: TransferRequest[] = [
    {
      id: funding.fundingId,
      debit_account: from,
      credit_account: accountIds.campaignBudget(funding.campaignId),
      amount: cost.budget,
      currency: funding.budget.currency,
      code: 'campaign_funding',
      metadata: funding.metadata,
    },
  ];
  if (cost.fee > 0) {
    requests.push({
      id: funding.feeId,
      debit_account: from,
      credit_account: accountIds.platformRevenue,
      amount: cost.fee,
      currency: funding.budget.currency,
      code: 'platform_fee',
      metadata: funding.metadata,
    });
  }
  return requests;
}
