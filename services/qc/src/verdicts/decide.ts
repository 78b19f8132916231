import {
  aggregateAnswers,
  type Answer,
  decideOverlap,
  type OverlapDecision,
  type Verdict,
  verdictOptionsFor,
} from '../consensus/index.ts';

/** A submitted review as the consensus weighs it. */
export interface CastVote {
  judgeId: string;
  verdict: Verdict;
  /** The judge's accuracy now (judges/decide.ts `accuracyOf`). */
  accuracy: number;
  qualityScore: number | null;
  reasonCodes: readonly string[];
  answer: Record<string, unknown> | null;
}

export interface CasePolicy {
  judgesRequired: number;
  maxJudges: number;
  threshold: number;
}

/**
 * What the votes so far make of a case (dynamic overlap over the one-coin posterior): wait for the
 * judges still out, decide, ask one more judge, or escalate to an admin.
 */
export function decideCase(votes: readonly CastVote[], policy: CasePolicy): OverlapDecision<Verdict> {
  const weighed = votes.map((vote) => ({ option: vote.verdict, accuracy: vote.accuracy }));
  return decideOverlap({
    options: verdictOptionsFor(weighed),
    votes: weighed,
    judgesRequired: policy.judgesRequired,
    maxOverlap: policy.maxJudges,
    threshold: policy.threshold,
  });
}

/** What a verdict carries besides the verdict itself, from the votes that reached it. */
export interface VerdictDetails {
  qualityScore: number | null;
  reasonCodes: string[];
  answer: Record<string, unknown> | null;
  answerConfidence: number | null;
}

/**
 * The judges' mean quality score; the reasons the judges on the winning side gave (a rejection
 * or revision says why, in every reason they named, most named first); and the answer the judges
 * give, weighted by their accuracy (what a dataset bundle sells), with its confidence.
 */
export function verdictDetails(votes: readonly CastVote[], verdict: Verdict): VerdictDetails {
  const scores = votes.map((vote) => vote.qualityScore).filter((score): score is number => score !== null);
  // Four decimals: the mean of 0.8s is 0.8, not 0.8000000000000002.
  const qualityScore =
    scores.length === 0
      ? null
      : Math.round((scores.reduce((sum, score) => sum + score, 0) / scores.length) * 1e4) / 1e4;
  const counts = new Map<string, number>();
  if (verdict !== 'approve') {
    for (const vote of votes.filter((v) => v.verdict === verdict))
      for (const code of new Set(vote.reasonCodes)) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  const reasonCodes = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([code]) => code)
    .slice(0, 20);
  const aggregated = aggregateAnswers(
    votes.map((vote) => ({ answer: asAnswer(vote.answer), accuracy: vote.accuracy })),
  );
  return {
    qualityScore,
    reasonCodes,
    answer: aggregated ? { ...aggregated.answer } : null,
    answerConfidence: aggregated ? aggregated.confidence : null,
  };
}

/** A judge's answer in the shape the aggregation compares (option, preference or label set). */
export function asAnswer(answer: Record<string, unknown> | null): Answer | null {
  if (answer === null) return null;
  if (typeof answer.option === 'string') return { option: answer.option };
  if (answer.preferred === 'a' || answer.preferred === 'b' || answer.preferred === 'tie')
    return { preferred: answer.preferred };
  if (Array.isArray(answer.labels))
    return { labels: answer.labels.filter((l): l is string => typeof l === 'string') };
  return null;
}
