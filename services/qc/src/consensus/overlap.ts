import { verdicts } from '@tessera/contracts';
import { posterior, type Vote } from './posterior.ts';

/**
 * Dynamic overlap: ask as few judges as the evidence allows. Wait for `judgesRequired` votes, then
 * decide as soon as the best option's posterior reaches `threshold`; while it does not, ask one more
 * judge, up to `maxOverlap`, and past that hand the submission to an admin.
 */

export type Verdict = (typeof verdicts)[number];

/**
 * The options of the verdict posterior: approve, reject and revision, so K = 3, as the issue's
 * "(1 − q)/(options − 1)" reads with three verdicts.
 *
 * K matters. With K = 3 a wrong vote is assumed to fall on either other verdict alike, so it counts
 * less against the winner than with K = 2, and the same votes give a higher posterior. Three new
 * judges (q = 0.75):
 *
 *   votes   K = 2   K = 3
 *   3–0     0.964   0.991
 *   2–1     0.750   0.837
 *   3–1     0.900   0.969
 *
 * and for judges of q = 0.8: 2–0 gives 0.941 vs 0.970, 2–1 gives 0.800 vs 0.877. So at the default
 * threshold of 0.9 a 2–1 split still asks for a fourth judge under either K, but under K = 3 a 2–1
 * split of judges of q ≥ 0.85 already decides (0.912), where under K = 2 a 2–1 split of equal judges
 * is worth exactly q and decides only from q = 0.9; and three unanimous judges of only q = 0.6
 * decide under K = 3 (0.931) but not under K = 2 (0.771). If judges rarely choose revision in
 * practice, K = 3 overstates the posterior of approve-versus-reject disputes, and the threshold is
 * the knob to raise (scripts/simulate.ts compares both K).
 */
export const verdictOptions: readonly Verdict[] = verdicts;

/**
 * The verdicts in play for a set of votes, which is the K QC uses: approve and reject always, and
 * revision only once some judge chose it. Judges who all choose between approve and reject are then
 * weighed with K = 2, which gives the issue's hand-checked figures (three new judges: 3–0 → 0.96,
 * 2–1 → 0.75, 3–1 → 0.90), and the simulation's better accuracy (scripts/simulate.ts, c'); a third
 * option enters only when it is really on the table.
 */
export function verdictOptionsFor(votes: readonly { option: Verdict }[]): readonly Verdict[] {
  return votes.some((vote) => vote.option === 'revision') ? verdictOptions : ['approve', 'reject'];
}

export interface OverlapPolicy {
  /** Votes to collect before deciding at all (the submission's `judges_required`). */
  readonly judgesRequired: number;
  /** Most votes to collect before escalating; never fewer than `judgesRequired`. */
  readonly maxOverlap: number;
  /** The posterior the best option must reach to be decided. */
  readonly threshold: number;
}

export const defaultOverlapPolicy: OverlapPolicy = { judgesRequired: 3, maxOverlap: 5, threshold: 0.9 };

/**
 * A posterior that equals the threshold mathematically (3–1 of q = 0.75 with K = 2 is exactly 0.9)
 * may land an ulp below it in floating point; it still decides.
 */
const THRESHOLD_TOLERANCE = 1e-9;

export type OverlapDecision<O extends string = string> =
  /** Fewer than `judgesRequired` votes: wait for `needed` more. */
  | { readonly kind: 'wait'; readonly needed: number }
  /** The best option reached the threshold; every vote so far counted toward it. */
  | {
      readonly kind: 'decided';
      readonly option: O;
      readonly confidence: number;
      readonly countedVotes: number;
    }
  /** Uncertain, and another judge may still be asked. */
  | { readonly kind: 'more'; readonly needed: 1 }
  /** Uncertain with `maxOverlap` votes in: an admin decides. */
  | { readonly kind: 'escalate'; readonly confidence: number; readonly best: O };

export interface OverlapInput<O extends string> extends Partial<OverlapPolicy> {
  readonly options: readonly O[];
  readonly votes: readonly Vote<O>[];
}

/** What to do with a submission given the votes so far. */
export function decideOverlap<O extends string>(input: OverlapInput<O>): OverlapDecision<O> {
  const { judgesRequired, maxOverlap, threshold } = policyOf(input);
  const { options, votes } = input;
  if (votes.length < judgesRequired) return { kind: 'wait', needed: judgesRequired - votes.length };
  const { best, probability } = posterior(options, votes);
  if (probability >= threshold - THRESHOLD_TOLERANCE) {
    return { kind: 'decided', option: best, confidence: probability, countedVotes: votes.length };
  }
  if (votes.length < Math.max(maxOverlap, judgesRequired)) return { kind: 'more', needed: 1 };
  return { kind: 'escalate', confidence: probability, best };
}

function policyOf(input: Partial<OverlapPolicy>): OverlapPolicy {
  const policy = {
    judgesRequired: input.judgesRequired ?? defaultOverlapPolicy.judgesRequired,
    maxOverlap: input.maxOverlap ?? defaultOverlapPolicy.maxOverlap,
    threshold: input.threshold ?? defaultOverlapPolicy.threshold,
  };
  if (!Number.isInteger(policy.judgesRequired) || policy.judgesRequired < 1) {
    throw new RangeError(`judgesRequired must be a positive integer, got ${policy.judgesRequired}`);
  }
  if (!Number.isInteger(policy.maxOverlap) || policy.maxOverlap < 1) {
    throw new RangeError(`maxOverlap must be a positive integer, got ${policy.maxOverlap}`);
  }
  if (!(policy.threshold > 0 && policy.threshold <= 1)) {
    throw new RangeError(`threshold must be in (0, 1], got ${policy.threshold}`);
  }
  return policy;
}
