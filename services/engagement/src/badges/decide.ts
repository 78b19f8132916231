import type { TaskType } from '@tessera/contracts';
import type { BadgeCriteria } from './criteria.ts';

/** Everything a badge's criteria can ask about one user. */
export interface BadgeProgress {
  tasksCompleted: number;
  tasksByType: Partial<Record<TaskType, number>>;
  reviewsDone: number;
  /** Minor units earned, by currency. */
  earnings: Record<string, number>;
  /** Approved submissions by the local hour (0–23) they were received at. */
  approvalsByHour: readonly number[];
  streakDays: number;
  trustScore: number;
}

export const noProgress: BadgeProgress = {
  tasksCompleted: 0,
  tasksByType: {},
  reviewsDone: 0,
  earnings: {},
  approvalsByHour: Array.from({ length: 24 }, () => 0),
  streakDays: 0,
  trustScore: 0,
};

/** The local hours a time-of-day window covers: from `from` (inclusive) to `to` (exclusive), wrapping midnight. */
export function hoursOf(from: number, to: number): number[] {
  const hours: number[] = [];
  for (let hour = from; hour !== to; hour = (hour + 1) % 24) hours.push(hour);
  return hours;
}

/** How far a user is along a criterion (compare with its threshold). */
export function measure(criteria: BadgeCriteria, progress: BadgeProgress): number {
  switch (criteria.type) {
    case 'tasks_completed':
      return criteria.task_type === undefined
        ? progress.tasksCompleted
        : (progress.tasksByType[criteria.task_type] ?? 0);
    case 'reviews_done':
      return progress.reviewsDone;
    case 'earnings_total':
      return criteria.currency === undefined
        ? Math.max(0, ...Object.values(progress.earnings))
        : (progress.earnings[criteria.currency] ?? 0);
    case 'streak_days':
      return progress.streakDays;
    case 'trust_score':
      return progress.trustScore;
    case 'time_of_day':
      return hoursOf(criteria.from_hour, criteria.to_hour).reduce(
        (sum, hour) => sum + (progress.approvalsByHour[hour] ?? 0),
        0,
      );
  }
}

/**
 * The badges a user newly meets: of `badges`, those not in `unlocked` whose criterion reached its
 * threshold. Unlocking is once per badge; the caller's insert decides who wins a race.
 */
export function earnedBadges(
  badges: readonly { id: string; criteria: BadgeCriteria }[],
  progress: BadgeProgress,
  unlocked: ReadonlySet<string> = new Set(),
): string[] {
  return badges
    .filter((badge) => !unlocked.has(badge.id))
    .filter((badge) => measure(badge.criteria, progress) >= badge.criteria.threshold - 1e-9)
    .map((badge) => badge.id);
}
