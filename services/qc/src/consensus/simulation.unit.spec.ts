import { describe, expect, it } from 'vitest';
import { createWorld, defaultSimulationOptions, simulate } from './simulation.ts';

describe('simulate', () => {
  const small = { submissions: 300, seed: 7 };

  it('is repeatable for a seed', () => {
    expect(simulate(small)).toEqual(simulate(small));
  });

  it('is at least as accurate as a majority of 5 with fewer judges, under either K', () => {
    const { results } = simulate(small);
    const [twoOfThree, majorityOfFive, k3, k2] = results;
    expect(twoOfThree!.meanJudges).toBe(3);
    expect(majorityOfFive!.meanJudges).toBe(5);
    for (const ours of [k3!, k2!]) {
      expect(ours.accuracy).toBeGreaterThanOrEqual(majorityOfFive!.accuracy - 0.01);
      // Escalations are settled by an always-right admin; without them it must hold up too.
      expect(ours.accuracyExcludingEscalations!).toBeGreaterThanOrEqual(majorityOfFive!.accuracy - 0.02);
      // Even counting the honeypots served, fewer reviews than a majority of 5.
      expect(ours.meanJudges + ours.honeypotsPerSubmission).toBeLessThan(majorityOfFive!.meanJudges);
      expect(ours.meanJudges).toBeGreaterThanOrEqual(3);
      expect(ours.escalationRate).toBeLessThan(0.25);
    }
  });

  it('learns that random spammers are no better than a coin', () => {
    const { learnedJudges } = simulate(small);
    const spammers = learnedJudges.filter((judge) => judge.trueAccuracy === null);
    expect(spammers).toHaveLength(3);
    for (const spammer of spammers) expect(spammer.learnedAccuracy).toBeLessThan(0.7);
  });
});

describe('createWorld', () => {
  it('draws panels of distinct judges, 10 % of them spammers, with the configured base rate', () => {
    const world = createWorld({ ...defaultSimulationOptions, submissions: 2000 });
    expect(world.judges.filter((judge) => judge.accuracy === null)).toHaveLength(3);
    for (const judge of world.judges) {
      if (judge.accuracy !== null) expect(judge.accuracy).toBeGreaterThanOrEqual(0.55);
      if (judge.accuracy !== null) expect(judge.accuracy).toBeLessThan(0.95);
    }
    for (const { panel, votes } of world.submissions) {
      expect(new Set(panel).size).toBe(5);
      expect(votes).toHaveLength(5);
    }
    const approved = world.submissions.filter((submission) => submission.truth === 'approve').length;
    expect(approved / world.submissions.length).toBeCloseTo(0.7, 1);
  });

  it('refuses a pool smaller than a panel', () => {
    expect(() => createWorld({ ...defaultSimulationOptions, judges: 4 })).toThrow(RangeError);
  });
});
