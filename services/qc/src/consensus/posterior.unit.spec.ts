import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCURACY_CEILING, ACCURACY_FLOOR, posterior, type Vote, voteWeight } from './posterior.ts';

const binary = ['approve', 'reject'] as const;
const verdicts = ['approve', 'reject', 'revision'] as const;
type Verdict = (typeof verdicts)[number];

const votes = (option: Verdict, accuracy: number, count: number): Vote<Verdict>[] =>
  Array.from({ length: count }, () => ({ option, accuracy }));

/** The model written out as a product, for the hand-checked numbers. */
function byHand(options: readonly Verdict[], cast: readonly Vote<Verdict>[], option: Verdict): number {
  const product = (o: Verdict) =>
    cast.reduce((p, v) => p * (v.option === o ? v.accuracy : (1 - v.accuracy) / (options.length - 1)), 1);
  const total = options.reduce((sum, o) => sum + product(o), 0);
  return product(option) / total;
}

describe('posterior, K = 2 (approve / reject), hand-checked', () => {
  it.each([
    ['two agreeing judges of 0.8', [...votes('approve', 0.8, 2)], 0.64 / (0.64 + 0.04), 0.941],
    ['a 2–1 split of 0.8', [...votes('approve', 0.8, 2), ...votes('reject', 0.8, 1)], 0.128 / 0.16, 0.8],
    ['three new judges 3–0', votes('approve', 0.75, 3), 0.421875 / 0.4375, 0.964],
    [
      'three new judges 2–1',
      [...votes('approve', 0.75, 2), ...votes('reject', 0.75, 1)],
      0.140625 / 0.1875,
      0.75,
    ],
    [
      'new judges 3–1',
      [...votes('approve', 0.75, 3), ...votes('reject', 0.75, 1)],
      0.10546875 / 0.1171875,
      0.9,
    ],
  ])('%s gives approve %f (≈ %f)', (_, cast, exact, rounded) => {
    const result = posterior(binary, cast);
    expect(result.best).toBe('approve');
    expect(result.probability).toBeCloseTo(exact, 12);
    expect(result.probability).toBeCloseTo(rounded, 3);
    expect(result.probability).toBeCloseTo(byHand(binary, cast, 'approve'), 12);
  });

  it('a 1–1 split is 0.5 each, and the tie goes to the option listed first', () => {
    const result = posterior(binary, [
      { option: 'reject', accuracy: 0.8 },
      { option: 'approve', accuracy: 0.8 },
    ]);
    expect(result.distribution.get('approve')).toBeCloseTo(0.5, 15);
    expect(result.distribution.get('reject')).toBeCloseTo(0.5, 15);
    expect(result.best).toBe('approve');
    expect(
      posterior(['reject', 'approve'], [...votes('approve', 0.8, 1), ...votes('reject', 0.8, 1)]).best,
    ).toBe('reject');
  });

  it('one judge of 0.9 outweighs two of 0.6 agreeing with each other (0.144 vs 0.036: 0.8)', () => {
    const result = posterior(binary, [...votes('reject', 0.6, 2), { option: 'approve', accuracy: 0.9 }]);
    expect(result.best).toBe('approve');
    expect(result.probability).toBeCloseTo(0.144 / 0.18, 12);
  });

  it('is uniform with no vote', () => {
    expect([...posterior(binary, []).distribution.values()]).toEqual([0.5, 0.5]);
    expect(posterior(verdicts, []).probability).toBeCloseTo(1 / 3, 15);
  });
});

describe('posterior, K = 3 (approve / reject / revision), hand-checked', () => {
  // A vote on another option is worth (1 − q) / 2, so every wrong vote counts less against the winner.
  it.each([
    ['two agreeing judges of 0.8', votes('approve', 0.8, 2), 0.64 / 0.66, 0.97],
    ['a 2–1 split of 0.8', [...votes('approve', 0.8, 2), ...votes('reject', 0.8, 1)], 0.064 / 0.073, 0.877],
    ['three new judges 3–0', votes('approve', 0.75, 3), 0.421875 / 0.42578125, 0.991],
    [
      'three new judges 2–1',
      [...votes('approve', 0.75, 2), ...votes('reject', 0.75, 1)],
      0.0703125 / 0.083984375,
      0.837,
    ],
    [
      'new judges 3–1',
      [...votes('approve', 0.75, 3), ...votes('reject', 0.75, 1)],
      0.052734375 / 0.054443359375,
      0.969,
    ],
  ])('%s gives approve %f (≈ %f)', (_, cast, exact, rounded) => {
    const result = posterior(verdicts, cast);
    expect(result.best).toBe('approve');
    expect(result.probability).toBeCloseTo(exact, 12);
    expect(result.probability).toBeCloseTo(rounded, 3);
    expect(result.probability).toBeCloseTo(byHand(verdicts, cast, 'approve'), 12);
  });

  it('a 1–1 split of 0.8 is 0.08 / 0.17 for each and 0.01 / 0.17 for revision', () => {
    const result = posterior(verdicts, [...votes('approve', 0.8, 1), ...votes('reject', 0.8, 1)]);
    expect(result.distribution.get('approve')).toBeCloseTo(0.08 / 0.17, 12);
    expect(result.distribution.get('reject')).toBeCloseTo(0.08 / 0.17, 12);
    expect(result.distribution.get('revision')).toBeCloseTo(0.01 / 0.17, 12);
    expect(result.best).toBe('approve');
  });

  it('one judge of 0.9 still outweighs two of 0.6, by less (0.036 / 0.056)', () => {
    const result = posterior(verdicts, [...votes('reject', 0.6, 2), ...votes('approve', 0.9, 1)]);
    expect(result.best).toBe('approve');
    expect(result.probability).toBeCloseTo(0.036 / 0.056, 12);
  });
});

describe('posterior, numerical safety', () => {
  it('stays finite for a thousand votes', () => {
    const result = posterior(binary, [...votes('approve', 0.99, 600), ...votes('reject', 0.99, 400)]);
    expect(result.best).toBe('approve');
    expect(result.probability).toBe(1);
  });

  it('clamps accuracies of 0 and 1 into (0, 1), so two "perfect" judges who disagree make a tie', () => {
    expect(voteWeight(1, 2)).toBeCloseTo(Math.log(ACCURACY_CEILING / (1 - ACCURACY_CEILING)), 9);
    expect(voteWeight(0, 2)).toBeCloseTo(Math.log(ACCURACY_FLOOR / (1 - ACCURACY_FLOOR)), 9);
    const result = posterior(binary, [...votes('approve', 1, 1), ...votes('reject', 1, 1)]);
    expect(result.probability).toBeCloseTo(0.5, 12);
  });

  it('counts a judge no better than chance (q = 1/K) for nothing, and one worse than chance against', () => {
    expect(voteWeight(0.5, 2)).toBe(0);
    expect(voteWeight(1 / 3, 3)).toBeCloseTo(0, 15);
    expect(posterior(binary, votes('approve', 0.3, 1)).best).toBe('reject');
  });

  it('refuses fewer than two options, duplicate options, unknown votes and NaN', () => {
    expect(() => posterior(['approve'], [])).toThrow(RangeError);
    expect(() => posterior(['approve', 'approve'], [])).toThrow(RangeError);
    expect(() => posterior(binary, [{ option: 'revision' as 'approve', accuracy: 0.8 }])).toThrow(RangeError);
    expect(() => posterior(binary, [{ option: 'approve', accuracy: Number.NaN }])).toThrow(RangeError);
  });
});

describe('posterior, properties', () => {
  const optionSets = fc.integer({ min: 2, max: 6 }).map((k) => Array.from({ length: k }, (_, i) => `o${i}`));
  const accuracy = fc.double({ min: 0, max: 1, noNaN: true });
  const scenario = optionSets.chain((options) =>
    fc.record({
      options: fc.constant(options),
      votes: fc.array(fc.record({ option: fc.constantFrom(...options), accuracy }), { maxLength: 30 }),
    }),
  );

  it('is a distribution: every value in [0, 1], summing to 1, best the largest', () => {
    fc.assert(
      fc.property(scenario, ({ options, votes: cast }) => {
        const result = posterior(options, cast);
        const values = [...result.distribution.values()];
        expect(values).toHaveLength(options.length);
        for (const value of values) {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1);
        }
        expect(values.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
        expect(result.probability).toBe(result.distribution.get(result.best));
        expect(result.probability).toBeGreaterThanOrEqual(Math.max(...values) - 1e-9);
      }),
    );
  });

  it('never lowers the best option when a vote agrees with it (from a judge at least as good as chance)', () => {
    // Below 1/K a vote is evidence against the option it names (see voteWeight), so it can lower it.
    fc.assert(
      fc.property(scenario, fc.double({ min: 0, max: 1, noNaN: true }), ({ options, votes: cast }, u) => {
        const before = posterior(options, cast);
        const q = 1 / options.length + u * (1 - 1 / options.length);
        const after = posterior(options, [...cast, { option: before.best, accuracy: q }]);
        expect(after.distribution.get(before.best)!).toBeGreaterThanOrEqual(before.probability - 1e-12);
      }),
    );
  });

  it('does not depend on the order of votes', () => {
    const shuffled = scenario.chain(({ options, votes: cast }) =>
      fc.record({
        options: fc.constant(options),
        votes: fc.constant(cast),
        reordered: fc.shuffledSubarray(cast, { minLength: cast.length }),
      }),
    );
    fc.assert(
      fc.property(shuffled, ({ options, votes: cast, reordered }) => {
        const a = posterior(options, cast);
        const b = posterior(options, reordered);
        expect(b.best).toBe(a.best);
        for (const option of options) {
          expect(b.distribution.get(option)!).toBeCloseTo(a.distribution.get(option)!, 12);
        }
      }),
    );
  });
});
