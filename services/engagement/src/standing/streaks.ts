/**
 * Streaks: consecutive days on which a user was active (handed in a submission, had a review
 * counted), counted in the user's own time zone. Days are local calendar days, 'YYYY-MM-DD'.
 */
export interface Streak {
  days: number;
  /** The last local day counted, or null before any activity. */
  lastDay: string | null;
}

/** The multiplier grows by a tenth a day, up to this. */
export const MAX_STREAK_MULTIPLIER = 2.0;

const DAY_MS = 86_400_000;

/** Whole days from `from` to `to` (both 'YYYY-MM-DD'); negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/**
 * The streak after activity on local `day`, or undefined when nothing changes: the same day
 * again, or an older day delivered late (a streak only moves forward, so a late event never
 * breaks it). The next day extends it; any gap starts again at 1.
 */
export function decideStreak(streak: Streak, day: string): { days: number; lastDay: string } | undefined {
  if (streak.lastDay === null) return { days: 1, lastDay: day };
  const gap = daysBetween(streak.lastDay, day);
  if (gap <= 0) return undefined;
  if (gap === 1) return { days: streak.days + 1, lastDay: day };
  return { days: 1, lastDay: day };
}

/**
 * The streak as it stands on local day `today`: kept while its last day is today or yesterday
 * (there is still today to extend it), 0 once a whole day was missed.
 */
export function currentStreak(streak: Streak, today: string): number {
  if (streak.lastDay === null) return 0;
  return daysBetween(streak.lastDay, today) <= 1 ? streak.days : 0;
}

/** XP multiplier of a streak: 1.0 for 0 or 1 day, +0.1 for each further day, at most 2.0. */
export function streakMultiplier(days: number): number {
  if (days <= 1) return 1;
  // Counted in tenths, so that 1 + 0.1·n comes out exact (1.3, not 1.3000000000000003).
  return Math.min(MAX_STREAK_MULTIPLIER * 10, 10 + (days - 1)) / 10;
}
