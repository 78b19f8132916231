import { describe, expect, it } from 'vitest';
import { levelForXp, levelProgress, xpForLevel } from './levels.ts';

describe('the level curve', () => {
  it('starts at level 1 and costs ⌈100·(n−1)^1.5⌉ XP to reach level n', () => {
    expect([1, 2, 3, 5, 10, 20].map(xpForLevel)).toEqual([0, 100, 283, 800, 2700, 8282]);
    expect(levelForXp(0)).toBe(1);
    expect(levelForXp(99)).toBe(1);
    expect(levelForXp(100)).toBe(2);
    expect(levelForXp(282)).toBe(2);
    expect(levelForXp(283)).toBe(3);
  });

  it('is the inverse of the thresholds at every boundary up to level 200', () => {
    for (let level = 2; level <= 200; level++) {
      expect(levelForXp(xpForLevel(level))).toBe(level);
      expect(levelForXp(xpForLevel(level) - 1)).toBe(level - 1);
    }
  });

  it('says how much XP the next level needs', () => {
    expect(levelProgress(150)).toEqual({ level: 2, xpForNext: 283, xpToNext: 133 });
  });
});
