import { describe, expect, it } from 'vitest';
import { drawDistinct, mulberry32, substream, uniformBetween } from './prng.ts';

describe('mulberry32', () => {
  it('repeats itself for a seed and differs across seeds', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const c = mulberry32(2);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(first);
  });

  it('draws in [0, 1) with a mean near 1/2', () => {
    const random = mulberry32(7);
    const draws = Array.from({ length: 10_000 }, () => random());
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(draws.reduce((sum, x) => sum + x, 0) / draws.length).toBeCloseTo(0.5, 1);
  });

  it('gives independent-looking substreams', () => {
    expect(substream(1, 0)()).not.toBe(substream(1, 1)());
  });
});

describe('uniformBetween and drawDistinct', () => {
  it('stays in range', () => {
    const random = mulberry32(3);
    for (let i = 0; i < 1000; i += 1) {
      const x = uniformBetween(random, 0.55, 0.95);
      expect(x).toBeGreaterThanOrEqual(0.55);
      expect(x).toBeLessThan(0.95);
    }
  });

  it('draws distinct indices, and refuses to draw more than there are', () => {
    const random = mulberry32(4);
    for (let i = 0; i < 200; i += 1) {
      const drawn = drawDistinct(random, 30, 5);
      expect(new Set(drawn).size).toBe(5);
      for (const index of drawn) expect(index).toBeGreaterThanOrEqual(0);
      for (const index of drawn) expect(index).toBeLessThan(30);
    }
    expect(() => drawDistinct(random, 3, 4)).toThrow(RangeError);
  });
});
