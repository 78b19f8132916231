import { describe, expect, it } from 'vitest';
import type { BadgeCriteria } from './criteria.ts';
import { criteriaSchema } from './criteria.ts';
import { type BadgeProgress, earnedBadges, hoursOf, measure, noProgress } from './decide.ts';

const progress = (over: Partial<BadgeProgress>): BadgeProgress => ({ ...noProgress, ...over });
const badge = (id: string, criteria: BadgeCriteria) => ({ id, criteria });

describe('earned badges', () => {
  it('are those whose criterion reached its threshold, and not those already unlocked', () => {
    const badges = [
      badge('first', { type: 'tasks_completed', threshold: 1 }),
      badge('ten', { type: 'tasks_completed', threshold: 10 }),
      badge('reviews', { type: 'reviews_done', threshold: 3 }),
    ];
    expect(earnedBadges(badges, progress({ tasksCompleted: 1, reviewsDone: 3 }))).toEqual([
      'first',
      'reviews',
    ]);
    expect(earnedBadges(badges, progress({ tasksCompleted: 10 }), new Set(['first']))).toEqual(['ten']);
    expect(earnedBadges(badges, progress({ tasksCompleted: 0 }))).toEqual([]);
  });

  it('count tasks of one type for a typed badge, all tasks for an untyped one', () => {
    const voice = badge('voice', { type: 'tasks_completed', threshold: 50, task_type: 'audio' });
    expect(
      earnedBadges([voice], progress({ tasksCompleted: 80, tasksByType: { audio: 49, image: 31 } })),
    ).toEqual([]);
    expect(earnedBadges([voice], progress({ tasksCompleted: 50, tasksByType: { audio: 50 } }))).toEqual([
      'voice',
    ]);
  });

  it('compare earnings within one currency, never summed across currencies', () => {
    const any = badge('any', { type: 'earnings_total', threshold: 10_000 });
    const eur = badge('eur', { type: 'earnings_total', threshold: 10_000, currency: 'EUR' });
    expect(earnedBadges([any, eur], progress({ earnings: { USD: 6_000, EUR: 6_000 } }))).toEqual([]);
    expect(earnedBadges([any, eur], progress({ earnings: { USD: 10_000, EUR: 9_999 } }))).toEqual(['any']);
    expect(earnedBadges([any, eur], progress({ earnings: { EUR: 10_000 } }))).toEqual(['any', 'eur']);
  });

  it('read streak and trust from standing, trust to one decimal', () => {
    const streak = badge('streak', { type: 'streak_days', threshold: 7 });
    const trusted = badge('trusted', { type: 'trust_score', threshold: 8 });
    expect(earnedBadges([streak, trusted], progress({ streakDays: 6, trustScore: 7.9 }))).toEqual([]);
    expect(earnedBadges([streak, trusted], progress({ streakDays: 7, trustScore: 8.0 }))).toEqual([
      'streak',
      'trusted',
    ]);
  });

  it('count approvals received in a local-time window, also one that wraps midnight', () => {
    const byHour = Array.from({ length: 24 }, (_, hour) => hour); // hour h holds h approvals
    expect(hoursOf(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(hoursOf(22, 2)).toEqual([22, 23, 0, 1]);
    expect(
      measure(
        { type: 'time_of_day', from_hour: 0, to_hour: 5, threshold: 1 },
        progress({ approvalsByHour: byHour }),
      ),
    ).toBe(10);
    expect(
      measure(
        { type: 'time_of_day', from_hour: 22, to_hour: 2, threshold: 1 },
        progress({ approvalsByHour: byHour }),
      ),
    ).toBe(46);
    const owl = badge('owl', { type: 'time_of_day', from_hour: 0, to_hour: 5, threshold: 10 });
    expect(earnedBadges([owl], progress({ approvalsByHour: byHour }))).toEqual(['owl']);
  });
});

describe('badge criteria', () => {
  it('take a task type only on tasks_completed and refuse unknown fields and types', () => {
    expect(
      criteriaSchema.safeParse({ type: 'tasks_completed', threshold: 5, task_type: 'audio' }).success,
    ).toBe(true);
    expect(criteriaSchema.safeParse({ type: 'reviews_done', threshold: 5, task_type: 'audio' }).success).toBe(
      false,
    );
    expect(
      criteriaSchema.safeParse({ type: 'tasks_completed', threshold: 5, task_type: 'video' }).success,
    ).toBe(false);
    expect(criteriaSchema.safeParse({ type: 'tasks_completed', threshold: 0 }).success).toBe(false);
    expect(criteriaSchema.safeParse({ type: 'trust_score', threshold: 8.5 }).success).toBe(true);
    expect(criteriaSchema.safeParse({ type: 'trust_score', threshold: 8.55 }).success).toBe(false);
    expect(
      criteriaSchema.safeParse({ type: 'time_of_day', from_hour: 4, to_hour: 4, threshold: 1 }).success,
    ).toBe(false);
  });
});
