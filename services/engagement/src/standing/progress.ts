import type { Kysely } from 'kysely';
import { unlockedBadges } from '../badges/index.ts';
import type { EngagementDB } from '../db/schema.ts';
import { localDay, timeZoneOf } from '../users/index.ts';
import { levelProgress } from './levels.ts';
import { earningsOf, findStanding, type StandingRow } from './repository.ts';
import { currentStreak, streakMultiplier } from './streaks.ts';
import { shownTrust, TRUST_START } from './trust.ts';

type Db = Kysely<EngagementDB>;

/** A user never heard of yet stands at the start: level 1, no XP, trust 5.0, no streak. */
const blank = (userId: string): StandingRow => ({
  user_id: userId,
  xp: 0,
  level: 1,
  trust_score: TRUST_START,
  trust_exact: TRUST_START * 100,
  streak_days: 0,
  streak_last_day: null,
  last_active_at: null,
  tasks_completed: 0,
  reviews_done: 0,
  rejections_at_review: 0,
  golden_right: 0,
  golden_wrong: 0,
});

/** Approved ÷ (approved + rejected by judges), to 4 decimals; null before any verdict. */
export function accuracy(approved: number, rejected: number): number | null {
  const judged = approved + rejected;
  return judged === 0 ? null : Math.round((approved / judged) * 10_000) / 10_000;
}

/** The streak as it stands today in the user's time zone (0 once a whole day was missed). */
async function streakToday(db: Db, row: StandingRow, now: Date) {
  const timeZone = await timeZoneOf(db, row.user_id);
  const days = currentStreak(
    { days: row.streak_days, lastDay: row.streak_last_day },
    localDay(now, timeZone),
  );
  return { timeZone, days };
}

/**
 * The numbers a user's public profile and the leaderboards show of them; their earnings only
 * `withEarnings` (the user themself or an admin asks: `routes.ts:seesEarningsOf`).
 */
export async function statsOf(
  db: Db,
  userId: string,
  now: Date,
  { withEarnings }: { withEarnings: boolean },
) {
  const row = (await findStanding(db, userId)) ?? blank(userId);
  const { days } = await streakToday(db, row, now);
  return {
    user_id: userId,
    level: row.level,
    xp: row.xp,
    tasks_completed: row.tasks_completed,
    reviews_done: row.reviews_done,
    accuracy: accuracy(row.tasks_completed, row.rejections_at_review),
    streak_days: days,
    trust_score: shownTrust(row.trust_exact),
    ...(withEarnings ? { total_earned: await earningsOf(db, userId) } : {}),
  };
}

/** Where the caller stands: level and the way to the next, streak and its multiplier, badges. */
export async function progressOf(db: Db, userId: string, now: Date) {
  const row = (await findStanding(db, userId)) ?? blank(userId);
  const { timeZone, days } = await streakToday(db, row, now);
  const { level, xpForNext, xpToNext } = levelProgress(row.xp);
  const badges = await unlockedBadges(db, userId);
  return {
    level,
    xp: row.xp,
    xp_for_next: xpForNext,
    xp_to_next: xpToNext,
    streak_days: days,
    streak_multiplier: streakMultiplier(days),
    trust_score: shownTrust(row.trust_exact),
    time_zone: timeZone,
    badges: badges.map((badge) => ({
      code: badge.code,
      name: badge.name,
      description: badge.description,
      unlocked_at: badge.unlocked_at.toISOString(),
    })),
  };
}
