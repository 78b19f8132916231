import { describe, expect, it } from 'vitest';
import { priorityScore } from './score.ts';

describe('priorityScore', () => {
  /** The seed's get_user_task_feed score, with its reward in dollars (DECIMAL). */
  const seedScore = (t: { is_priority: boolean; current: number; max: number; dollars: number }) =>
    (t.is_priority ? 10 : 0) + (10 - (t.current / t.max) * 10) + t.dollars / 10;

  it('is the seed formula with rewards in minor units', () => {
    const cases = [
      { is_priority: false, slots_taken: 0, max_submissions: 1000, reward_amount: 150 },
      { is_priority: true, slots_taken: 0, max_submissions: 1000, reward_amount: 150 },
      { is_priority: false, slots_taken: 500, max_submissions: 1000, reward_amount: 2500 },
      { is_priority: true, slots_taken: 9, max_submissions: 10, reward_amount: 1 },
      { is_priority: false, slots_taken: 10, max_submissions: 10, reward_amount: 999_999 },
      { is_priority: false, slots_taken: 1, max_submissions: 3, reward_amount: 333 },
    ];
    for (const task of cases) {
      const seed = seedScore({
        is_priority: task.is_priority,
        current: task.slots_taken,
        max: task.max_submissions,
        dollars: task.reward_amount / 100,
      });
      expect(priorityScore(task)).toBeCloseTo(seed, 9);
    }
    expect(priorityScore(cases[0]!)).toBeCloseTo(10.15, 12);
    expect(priorityScore(cases[1]!)).toBeCloseTo(20.15, 12);
    expect(priorityScore(cases[2]!)).toBeCloseTo(7.5, 12);
  });

  it('ranks priority first, then emptier, then richer', () => {
    const base = { is_priority: false, slots_taken: 5, max_submissions: 10, reward_amount: 100 };
    expect(priorityScore({ ...base, is_priority: true })).toBeGreaterThan(priorityScore(base));
    expect(priorityScore({ ...base, slots_taken: 1 })).toBeGreaterThan(priorityScore(base));
    expect(priorityScore({ ...base, reward_amount: 200 })).toBeGreaterThan(priorityScore(base));
  });
});
