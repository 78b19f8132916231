import { describe, expect, it } from 'vitest';
import { currentStreak, decideStreak, streakMultiplier } from './streaks.ts';

describe('a streak', () => {
  it('starts at 1 on the first active day', () => {
    expect(decideStreak({ days: 0, lastDay: null }, '2026-03-01')).toEqual({
      days: 1,
      lastDay: '2026-03-01',
    });
  });

  it('does not move on the same day again', () => {
    expect(decideStreak({ days: 3, lastDay: '2026-03-01' }, '2026-03-01')).toBeUndefined();
  });

  it('grows by one on the next day, across a month and a year end', () => {
    expect(decideStreak({ days: 3, lastDay: '2026-03-01' }, '2026-03-02')).toEqual({
      days: 4,
      lastDay: '2026-03-02',
    });
    expect(decideStreak({ days: 1, lastDay: '2026-02-28' }, '2026-03-01')).toEqual({
      days: 2,
      lastDay: '2026-03-01',
    });
    expect(decideStreak({ days: 9, lastDay: '2025-12-31' }, '2026-01-01')?.days).toBe(10);
  });

  it('starts again at 1 after a missed day', () => {
    expect(decideStreak({ days: 12, lastDay: '2026-03-01' }, '2026-03-03')).toEqual({
      days: 1,
      lastDay: '2026-03-03',
    });
  });

  it('ignores an older day delivered late, so it never breaks the streak', () => {
    expect(decideStreak({ days: 5, lastDay: '2026-03-05' }, '2026-03-02')).toBeUndefined();
    expect(decideStreak({ days: 5, lastDay: '2026-03-05' }, '2026-03-04')).toBeUndefined();
  });

  it('stands while its last day is today or yesterday, and is 0 once a day is missed', () => {
    const streak = { days: 4, lastDay: '2026-03-05' };
    expect(currentStreak(streak, '2026-03-05')).toBe(4);
    expect(currentStreak(streak, '2026-03-06')).toBe(4);
    expect(currentStreak(streak, '2026-03-07')).toBe(0);
    expect(currentStreak({ days: 0, lastDay: null }, '2026-03-07')).toBe(0);
  });
});

describe('the streak multiplier', () => {
  it('is 1.0 for no streak or one day, +0.1 a day after, and at most 2.0', () => {
    expect(streakMultiplier(0)).toBe(1);
    expect(streakMultiplier(1)).toBe(1);
    expect(streakMultiplier(2)).toBe(1.1);
    expect(streakMultiplier(4)).toBe(1.3);
    expect(streakMultiplier(10)).toBe(1.9);
    expect(streakMultiplier(11)).toBe(2);
    expect(streakMultiplier(400)).toBe(2);
  });
});
