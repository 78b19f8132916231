import { posterior } from './posterior.ts';

/**
 * The aggregated answer of a submission whose task type has one: what the judges, weighted by their
 * accuracy, say the right answer is. Each distinct answer is one categorical option of the same
 * one-coin posterior as verdicts, so a label set is right or wrong as a whole (no partial credit).
 */

/** A validation answer, an RLHF preference, or a label set (image labelling). */
export type Answer =
  | { readonly option: string }
  | { readonly preferred: 'a' | 'b' | 'tie' }
  | { readonly labels: readonly string[] };

/** A judge's answer (null when that judge gave none) and how often that judge is right. */
export interface AnswerVote<A extends Answer = Answer> {
  readonly answer: A | null;
  readonly accuracy: number;
}

export interface AggregatedAnswer<A extends Answer = Answer> {
  /** The winning answer in canonical form (labels sorted and deduplicated). */
  readonly answer: A;
  /** Its posterior. */
  readonly confidence: number;
}

/**
 * A stand-in for "some other answer" when every judge gave the same one: the posterior needs two
 * options, and a unanimous answer should be exactly as convincing as a unanimous binary vote. No
 * answer key can be empty (keys are JSON).
 */
const ANOTHER_ANSWER = '';

/**
 * The answer with only the field its type is compared on; a label set sorted by code unit (not by
 * locale, so every process agrees) and deduplicated, so ["cat", "dog"] and ["dog", "cat", "cat"] are
 * the same answer.
 */
export function canonicalAnswer<A extends Answer>(answer: A): A {
  if ('labels' in answer) return { labels: [...new Set(answer.labels)].sort() } as Answer as A;
  if ('option' in answer) return { option: answer.option } as Answer as A;
  return { preferred: answer.preferred } as Answer as A;
}

/** Two answers are the same option exactly when their keys are equal. */
export function answerKey(answer: Answer): string {
  return JSON.stringify(canonicalAnswer(answer));
}

/**
 * The reliability-weighted answer, or null when no judge answered. K is the number of distinct
 * answers given, at least 2. Options are ordered by key, so a tie goes to the smallest key whatever
 * the order the judges answered in.
 */
export function aggregateAnswers<A extends Answer>(
  votes: readonly AnswerVote<A>[],
): AggregatedAnswer<A> | null {
  const answers = new Map<string, A>();
  const keyed: { option: string; accuracy: number }[] = [];
  for (const { answer, accuracy } of votes) {
    if (answer === null) continue;
    const canonical = canonicalAnswer(answer);
    const key = JSON.stringify(canonical);
    answers.set(key, canonical);
    keyed.push({ option: key, accuracy });
  }
  if (keyed.length === 0) return null;
  const keys = [...answers.keys()].sort();
  const options = keys.length >= 2 ? keys : [...keys, ANOTHER_ANSWER];
  const { best, probability } = posterior(options, keyed);
  return { answer: answers.get(best)!, confidence: probability };
}
