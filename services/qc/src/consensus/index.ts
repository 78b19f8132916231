/**
 * Reliability-weighted consensus: judge accuracy, the one-coin posterior, dynamic overlap, answer
 * aggregation and inter-judge agreement. Pure: no I/O, no clock, no randomness.
 */
export {
  judgeAccuracy,
  type JudgeRecord,
  NEW_JUDGE_ACCURACY,
  PRIOR_CORRECT,
  PRIOR_WRONG,
} from './accuracy.ts';
export {
  ACCURACY_CEILING,
  ACCURACY_FLOOR,
  clampAccuracy,
  posterior,
  type Posterior,
  type Vote,
  voteWeight,
} from './posterior.ts';
export {
  decideOverlap,
  defaultOverlapPolicy,
  type OverlapDecision,
  type OverlapInput,
  type OverlapPolicy,
  type Verdict,
  verdictOptions,
  verdictOptionsFor,
} from './overlap.ts';
export {
  aggregateAnswers,
  type AggregatedAnswer,
  type Answer,
  answerKey,
  type AnswerVote,
  canonicalAnswer,
} from './answers.ts';
export {
  krippendorffAlpha,
  krippendorffAlphaOfRatings,
  type NominalValue,
  type Rating,
} from './agreement.ts';
