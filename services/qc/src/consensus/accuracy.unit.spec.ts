import { describe, expect, it } from 'vitest';
import { judgeAccuracy, NEW_JUDGE_ACCURACY, PRIOR_CORRECT, PRIOR_WRONG } from './accuracy.ts';

describe('judgeAccuracy', () => {
  it('has a Beta(3, 1) prior: a new judge is 0.75', () => {
    expect([PRIOR_CORRECT, PRIOR_WRONG]).toEqual([3, 1]);
    expect(NEW_JUDGE_ACCURACY).toBe(0.75);
    expect(judgeAccuracy({ correct: 0, answered: 0 })).toBe(0.75);
  });

  it.each([
    [1, 1, 4 / 5],
    [0, 1, 3 / 5],
    [6, 6, 9 / 10],
    [0, 6, 3 / 10],
    [96, 100, 99 / 104],
    [50, 100, 53 / 104],
  ])('%i right of %i is (3 + correct) / (4 + answered) = %f', (correct, answered, accuracy) => {
    expect(judgeAccuracy({ correct, answered })).toBeCloseTo(accuracy, 15);
  });

  it('moves toward the observed rate as the record grows', () => {
    expect(judgeAccuracy({ correct: 9_000, answered: 10_000 })).toBeCloseTo(0.9, 3);
  });

  it.each([
    [-1, 0],
    [2, 1],
    [Number.NaN, 1],
  ])('refuses the impossible record %f/%f', (correct, answered) => {
    expect(() => judgeAccuracy({ correct, answered })).toThrow(RangeError);
  });
});
