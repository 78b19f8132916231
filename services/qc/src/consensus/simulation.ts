import { judgeAccuracy, type JudgeRecord } from './accuracy.ts';
import { decideOverlap, defaultOverlapPolicy, type OverlapPolicy, type Verdict } from './overlap.ts';
import type { Vote } from './posterior.ts';
import { drawDistinct, type Random, substream, uniformBetween } from './prng.ts';

/**
 * A seeded simulation of judging, to compare fixed-overlap majority voting with reliability-weighted
 * consensus under dynamic overlap (scripts/simulate.ts prints it; a unit test runs a small one).
 *
 * The world is drawn once per seed and shared by every method, so they are compared on the same
 * submissions, the same judges and the same votes: each submission gets a panel of distinct judges
 * in random order with each one's vote drawn in advance, and a method that asks n judges reads the
 * first n of them. Judges only ever vote approve or reject (the true verdicts are binary).
 */

type Truth = Extract<Verdict, 'approve' | 'reject'>;

/**
 * How a spammer answers: `random` is a fair coin whatever the work (accuracy 0.5, which the learned
 * accuracy finds); `always-approve` rubber-stamps everything, which the one-coin model cannot tell
 * from a judge of accuracy `approveShare` (0.7 by default), since it agrees with the truth that often.
 */
export type SpammerBehaviour = 'random' | 'always-approve';

export interface SimulationOptions {
  readonly submissions: number;
  readonly judges: number;
  readonly seed: number;
  /** The share of submissions whose true verdict is approve. */
  readonly approveShare: number;
  /** The share of judges who are spammers (rounded). */
  readonly spammerShare: number;
  readonly spammerBehaviour: SpammerBehaviour;
  /** Honest judges' accuracies are drawn uniformly from this range. */
  readonly accuracyRange: readonly [number, number];
  readonly policy: OverlapPolicy;
  /** Every n-th review a judge is served is a honeypot of known truth; 0 for none. */
  readonly honeypotEvery: number;
}

export const defaultSimulationOptions: SimulationOptions = {
  submissions: 1000,
  judges: 30,
  seed: 1,
  approveShare: 0.7,
  spammerShare: 0.1,
  spammerBehaviour: 'random',
  accuracyRange: [0.55, 0.95],
  policy: defaultOverlapPolicy,
  honeypotEvery: 10,
};

export interface SimulatedJudge {
  /** The probability of answering right; null for a spammer. */
  readonly accuracy: number | null;
}

export interface SimulatedSubmission {
  readonly truth: Truth;
  /** Distinct judges (indices into `judges`) in the order they would be asked. */
  readonly panel: readonly number[];
  /** `votes[i]` is what `panel[i]` answers. */
  readonly votes: readonly Truth[];
}

export interface World {
  readonly options: SimulationOptions;
  readonly judges: readonly SimulatedJudge[];
  readonly submissions: readonly SimulatedSubmission[];
}

export interface MethodResult {
  readonly method: string;
  /** Share of final verdicts equal to the truth; escalations are decided by an admin who is always right. */
  readonly accuracy: number;
  /** Real reviews per submission (honeypots not included). */
  readonly meanJudges: number;
  readonly escalationRate: number;
  /** Accuracy over the submissions the method decided itself; null if it decided none. */
  readonly accuracyExcludingEscalations: number | null;
  /** Honeypot reviews served per submission: the price of learning accuracies from known truth. */
  readonly honeypotsPerSubmission: number;
}

export interface LearnedJudge {
  readonly trueAccuracy: number | null;
  readonly learnedAccuracy: number;
  readonly answered: number;
}

export interface SimulationReport {
  readonly options: SimulationOptions;
  readonly results: readonly MethodResult[];
  /** What the weighted method (K = 3) learned of each judge by the end. */
  readonly learnedJudges: readonly LearnedJudge[];
}

/** Runs every method on one world: fixed 2-of-3, majority of 5, and weighted with K = 3 and K = 2. */
export function simulate(overrides: Partial<SimulationOptions> = {}): SimulationReport {
  const world = createWorld({ ...defaultSimulationOptions, ...overrides });
  const k3 = weightedConsensus(world, ['approve', 'reject', 'revision']);
  const k2 = weightedConsensus(world, ['approve', 'reject']);
  return {
    options: world.options,
    results: [
      majorityOf(world, 3, '(a) fixed 2-of-3 majority'),
      majorityOf(world, 5, '(b) majority of 5'),
      { ...k3.result, method: '(c) weighted, dynamic overlap, K=3' },
      { ...k2.result, method: "(c') weighted, dynamic overlap, K=2" },
    ],
    learnedJudges: k3.learned,
  };
}

export function createWorld(options: SimulationOptions): World {
  const panelSize = Math.max(5, options.policy.maxOverlap, options.policy.judgesRequired);
  if (options.judges < panelSize) {
    throw new RangeError(`the simulation needs at least ${panelSize} judges, got ${options.judges}`);
  }
  const random = substream(options.seed, 0);
  const spammers = Math.round(options.judges * options.spammerShare);
  const [low, high] = options.accuracyRange;
  const judges = Array.from({ length: options.judges }, (_, i) => ({
    accuracy: i < options.judges - spammers ? uniformBetween(random, low, high) : null,
  }));
  const submissions = Array.from({ length: options.submissions }, () => {
    const truth = drawTruth(random, options.approveShare);
    const panel = drawDistinct(random, judges.length, panelSize);
    const votes = panel.map((judge) => answer(judges[judge]!, truth, random, options.spammerBehaviour));
    return { truth, panel, votes };
  });
  return { options, judges, submissions };
}

/** The first n judges of each panel, the majority of their votes deciding (n odd, so no ties). */
export function majorityOf(world: World, n: number, method: string): MethodResult {
  let right = 0;
  for (const { truth, votes } of world.submissions) {
    const approvals = votes.slice(0, n).filter((vote) => vote === 'approve').length;
    if ((approvals > n / 2 ? 'approve' : 'reject') === truth) right += 1;
  }
  const total = world.submissions.length;
  return {
    method,
    accuracy: right / total,
    meanJudges: n,
    escalationRate: 0,
    accuracyExcludingEscalations: right / total,
    honeypotsPerSubmission: 0,
  };
}

/**
 * Reliability-weighted consensus with dynamic overlap, learning accuracies online: submissions are
 * settled one after another, and once settled (by consensus, or by the admin on escalation) every
 * judge who voted is credited with agreeing or not with the settled verdict. Honeypots add to a
 * judge's record only. Everyone starts at the prior.
 */
export function weightedConsensus(
  world: World,
  options: readonly Verdict[],
): { result: MethodResult; learned: LearnedJudge[] } {
  const { policy, honeypotEvery, approveShare, spammerBehaviour } = world.options;
  const honeypots = substream(world.options.seed, 1);
  const records: JudgeRecord[] = world.judges.map(() => ({ correct: 0, answered: 0 }));
  const served = world.judges.map(() => 0);
  const credit = (judge: number, agreed: boolean) => {
    const record = records[judge]!;
    records[judge] = { correct: record.correct + (agreed ? 1 : 0), answered: record.answered + 1 };
  };
  /** Serves the judge their next review, a honeypot first if one is due; returns the honeypots served. */
  const serve = (judge: number): number => {
    const next = served[judge]! + 1;
    if (honeypotEvery > 0 && next % honeypotEvery === 0) {
      const truth = drawTruth(honeypots, approveShare);
      credit(judge, answer(world.judges[judge]!, truth, honeypots, spammerBehaviour) === truth);
      served[judge] = next + 1;
      return 1;
    }
    served[judge] = next;
    return 0;
  };

  let right = 0;
  let decidedRight = 0;
  let escalations = 0;
  let reviews = 0;
  let honeypotReviews = 0;
  for (const { truth, panel, votes } of world.submissions) {
    const cast: { judge: number; option: Truth }[] = [];
    const weighted = (): Vote<Verdict>[] =>
      cast.map(({ judge, option }) => ({ option, accuracy: judgeAccuracy(records[judge]!) }));
    let decision = decideOverlap({ ...policy, options, votes: weighted() });
    while (decision.kind === 'wait' || decision.kind === 'more') {
      const judge = panel[cast.length]!;
      honeypotReviews += serve(judge);
      cast.push({ judge, option: votes[cast.length]! });
      decision = decideOverlap({ ...policy, options, votes: weighted() });
    }
    reviews += cast.length;
    const settled = decision.kind === 'decided' ? decision.option : truth;
    if (settled === truth) right += 1;
    if (decision.kind === 'escalate') escalations += 1;
    else if (settled === truth) decidedRight += 1;
    for (const { judge, option } of cast) credit(judge, option === settled);
  }

  const total = world.submissions.length;
  const decided = total - escalations;
  return {
    result: {
      method: `weighted, dynamic overlap, K=${options.length}`,
      accuracy: right / total,
      meanJudges: reviews / total,
      escalationRate: escalations / total,
      accuracyExcludingEscalations: decided > 0 ? decidedRight / decided : null,
      honeypotsPerSubmission: honeypotReviews / total,
    },
    learned: world.judges.map((judge, i) => ({
      trueAccuracy: judge.accuracy,
      learnedAccuracy: judgeAccuracy(records[i]!),
      answered: records[i]!.answered,
    })),
  };
}

function drawTruth(random: Random, approveShare: number): Truth {
  return random() < approveShare ? 'approve' : 'reject';
}

function answer(judge: SimulatedJudge, truth: Truth, random: Random, spammer: SpammerBehaviour): Truth {
  if (judge.accuracy === null) {
    if (spammer === 'always-approve') return 'approve';
    return random() < 0.5 ? 'approve' : 'reject';
  }
  return random() < judge.accuracy ? truth : truth === 'approve' ? 'reject' : 'approve';
}
