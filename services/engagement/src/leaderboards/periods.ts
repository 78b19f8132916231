/** The boards: this UTC ISO week (from Monday), this UTC calendar month, and all time. */
export const periods = ['weekly', 'monthly', 'all_time'] as const;
export type Period = (typeof periods)[number];

export const metrics = ['xp', 'approved'] as const;
export type Metric = (typeof metrics)[number];

/** The all-time board has one period; its start is stored as this date. */
export const ALL_TIME_START = '1970-01-01';

/**
 * The first day (YYYY-MM-DD, UTC) of the period `at` falls in: Monday of its ISO week, the 1st of
 * its month, or ALL_TIME_START. Postgres' `date_trunc('week' | 'month', at at time zone 'UTC')`
 * (the XP trigger) agrees with it.
 */
export function periodStart(period: Period, at: Date): string {
  if (period === 'all_time') return ALL_TIME_START;
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  if (period === 'monthly') day.setUTCDate(1);
  else day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

/**
 * Standard competition ranks ("1224") of values listed in descending order, the first of which
 * has rank `firstRank`: equal values share a rank, and the next value skips the places they took.
 */
export function competitionRanks(values: readonly number[], firstRank = 1): number[] {
  const ranks: number[] = [];
  values.forEach((value, index) => {
    ranks.push(index > 0 && value === values[index - 1] ? ranks[index - 1]! : firstRank + index);
  });
  return ranks;
}
