import { answerKey, type Answer } from '../consensus/index.ts';

/**
 * A golden task's submission is decided at once against the known answer: approved when the
 * contributor's answer is the golden one, rejected (`GOLDEN_MISMATCH`) otherwise. Label sets compare
 * as sets; free-text answers (linguasense) compare ignoring case, punctuation and spacing.
 * Undefined when the case cannot be checked this way (no golden answer, or no answer to compare):
 * it goes to judges like any other.
 */
export function decideGolden(
  golden: Record<string, unknown> | null,
  answer: Record<string, unknown> | null,
): { verdict: 'approve' | 'reject'; reasonCodes: string[] } | undefined {
  if (golden === null || answer === null) return undefined;
  const expected = comparable(golden);
  const given = comparable(answer);
  if (expected === undefined || given === undefined) return undefined;
  return expected === given
    ? { verdict: 'approve', reasonCodes: [] }
    : { verdict: 'reject', reasonCodes: ['GOLDEN_MISMATCH'] };
}

/** A key two equal answers share, or undefined for a shape golden checks do not know. */
function comparable(answer: Record<string, unknown>): string | undefined {
  if (typeof answer.answer === 'string') return `text:${normaliseText(answer.answer)}`;
  if (typeof answer.option === 'string') return answerKey({ option: answer.option });
  if (answer.preferred === 'a' || answer.preferred === 'b' || answer.preferred === 'tie')
    return answerKey({ preferred: answer.preferred });
  if (Array.isArray(answer.labels) && answer.labels.every((label) => typeof label === 'string'))
    return answerKey({ labels: answer.labels } satisfies Answer);
  return undefined;
}

const normaliseText = (text: string) =>
  text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** What QC knows of an open case when it looks for cases waiting in vain. */
export interface WaitingCase {
  /** When the case last went into the pool: opened, or reopened by re-judging. */
  waitingSince: Date;
  /** Leases held now (unexpired): a judge is on it. */
  liveLeases: number;
  votesSubmitted: number;
  votesWanted: number;
  /**
   * Judges who could still take it (may judge, not the contributor nor their company's member, not
   * reviewed it yet), counted up to the votes still wanted.
   */
  eligibleJudges: number;
}

export interface EscalationRules {
  /** A case waiting this long goes to the admin queue (QC_CASE_ESCALATE_AFTER_HOURS). */
  escalateAfterMs: number;
}

/**
 * Why a case went to the admin queue (`cases.escalated_reason`, shown in the queue): the judges
 * split at max_judges (`reviews/handle.ts`), or it waited in vain for judges (`decideWaitingCase`).
 */
export const ESCALATED_REASONS = ['NO_CONSENSUS', 'NO_ELIGIBLE_JUDGES', 'WAITED_TOO_LONG'] as const;
export type EscalatedReason = (typeof ESCALATED_REASONS)[number];

export type WaitDecision =
  { kind: 'wait' } | { kind: 'escalate'; reason: Exclude<EscalatedReason, 'NO_CONSENSUS'> };

/**
 * Whether an open case stops waiting for judges and goes to the admin queue (an admin decides it,
 * method admin): never while a judge holds a lease on it, nor once its wanted votes are in (the
 * consensus weighs it); otherwise when fewer judges are left who could take it than votes it still
 * wants (it can never be decided by judges as things stand), or when it has waited
 * `escalateAfterMs` since it went into the pool.
 */
export function decideWaitingCase(waiting: WaitingCase, now: Date, rules: EscalationRules): WaitDecision {
  if (waiting.liveLeases > 0) return { kind: 'wait' };
  const stillWanted = waiting.votesWanted - waiting.votesSubmitted;
  if (stillWanted <= 0) return { kind: 'wait' };
  if (waiting.eligibleJudges < stillWanted) return { kind: 'escalate', reason: 'NO_ELIGIBLE_JUDGES' };
  if (now.getTime() - waiting.waitingSince.getTime() >= rules.escalateAfterMs)
    return { kind: 'escalate', reason: 'WAITED_TOO_LONG' };
  return { kind: 'wait' };
}
