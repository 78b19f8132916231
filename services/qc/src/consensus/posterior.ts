/**
 * The posterior over options given votes from judges of known accuracy (one-coin model).
 *
 * Each judge is right with probability q whatever the truth, and when wrong picks any of the other
 * K − 1 options alike. With a uniform prior over the K options:
 *
 *   P(option | votes) ∝ Π_votes ( q                  if the vote is for the option,
 *                                 (1 − q) / (K − 1)  otherwise )
 *
 * Dividing every option's product by the same Π (1 − q)/(K − 1) leaves each vote adding
 * `log(q (K − 1) / (1 − q))` to the log score of the option it names and nothing to the others,
 * so the posterior is a softmax of those scores. Working with sums of logs keeps many votes from
 * underflowing; the softmax subtracts the largest score before exponentiating.
 *
 * A judge with q below 1/K gets a negative weight: their vote is evidence *against* the option they
 * name. That is what the model says (a judge who is mostly wrong is informative), so we keep it.
 */

/** Accuracies are clamped into [ACCURACY_FLOOR, ACCURACY_CEILING]. */
export const ACCURACY_FLOOR = 1e-6;
/**
 * q = 1 would give a vote infinite weight (and two such judges disagreeing would give ∞ − ∞ = NaN);
 * q = 0 likewise. Clamping into (0, 1) exclusive keeps every weight finite: even a "perfect" judge
 * is worth log(999 999 (K − 1)) ≈ 13.8 nats (K = 2), so seven judges of 0.9 (2.2 nats each) still
 * outvote one.
 */
export const ACCURACY_CEILING = 1 - 1e-6;

/**
 * Scores closer than this count as tied. Votes summed in another order can differ in the last bits,
 * and a mathematical tie must not let the vote order pick the winner.
 */
const SCORE_TIE_EPSILON = 1e-9;

/** One judge's answer and how often that judge is right. */
export interface Vote<O extends string = string> {
  readonly option: O;
  readonly accuracy: number;
}

export interface Posterior<O extends string = string> {
  /** P(option | votes) for every option, in the order the options were given; sums to 1. */
  readonly distribution: ReadonlyMap<O, number>;
  /** The most probable option; on a tie, the one listed first in `options`. */
  readonly best: O;
  /** The posterior of `best`. */
  readonly probability: number;
}

export function clampAccuracy(accuracy: number): number {
  if (Number.isNaN(accuracy)) throw new RangeError('a vote accuracy must be a number, got NaN');
  return Math.min(ACCURACY_CEILING, Math.max(ACCURACY_FLOOR, accuracy));
}

/**
 * How much one vote of accuracy q moves the log odds of the option it names against each other
 * option, among K options: log(q (K − 1) / (1 − q)). Zero for a judge no better than chance (1/K).
 */
export function voteWeight(accuracy: number, optionCount: number): number {
  const q = clampAccuracy(accuracy);
  return Math.log(q) + Math.log(optionCount - 1) - Math.log1p(-q);
}

/**
 * The posterior of each option (K = options.length ≥ 2, listed once each) given the votes. With no
 * vote it is uniform. A vote for an option not listed is a caller's bug and throws.
 */
export function posterior<O extends string>(options: readonly O[], votes: readonly Vote<O>[]): Posterior<O> {
  assertOptions(options);
  const scores = new Map<O, number>(options.map((option) => [option, 0]));
  for (const vote of votes) {
    const score = scores.get(vote.option);
    if (score === undefined) throw new RangeError(`a vote for "${vote.option}", which is not an option`);
    scores.set(vote.option, score + voteWeight(vote.accuracy, options.length));
  }
  const top = Math.max(...scores.values());
  const unnormalised = options.map((option) => Math.exp(scores.get(option)! - top));
  const total = unnormalised.reduce((sum, value) => sum + value, 0);
  const distribution = new Map(options.map((option, i) => [option, unnormalised[i]! / total]));
  const best = firstBest(options, scores);
  return { distribution, best, probability: distribution.get(best)! };
}

/** Ties are broken by the caller's order of options, so the result never depends on vote order. */
function firstBest<O extends string>(options: readonly O[], scores: ReadonlyMap<O, number>): O {
  let best = options[0]!;
  for (const option of options) {
    if (scores.get(option)! > scores.get(best)! + SCORE_TIE_EPSILON) best = option;
  }
  return best;
}

function assertOptions(options: readonly string[]): void {
  if (options.length < 2) throw new RangeError(`a posterior needs at least 2 options, got ${options.length}`);
  if (new Set(options).size !== options.length) throw new RangeError('options must be distinct');
}
