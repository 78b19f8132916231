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
