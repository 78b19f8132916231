import type { SubmissionStatus } from '../intake/decide.ts';

/** A verdict as QC published it (qc.submission.verdict-reached.v1), in the domain's words. */
export interface Verdict {
  revision: number;
  verdict: 'approve' | 'reject' | 'revision';
  method: 'consensus' | 'golden' | 'admin' | 'appeal';
  reasonCodes: string[];
  appealId: string | null;
}

export interface VerdictState {
  status: SubmissionStatus;
  revision: number;
  /** The open appeal of a rejected submission, if any. */
  openAppealId: string | null;
  now: Date;
}

export interface VerdictRules {
  /** How long the contributor has to hand in the one revision review may ask for. */
  revisionWindowMs: number;
}

/** What a verdict does to a submission. */
export type VerdictOutcome =
  | { kind: 'approve'; overturn: boolean }
  | { kind: 'reject'; stage: 'review' | 'revision'; reasonCodes: string[] }
  | { kind: 'ask_revision'; deadline: Date; reasonCodes: string[] }
  | { kind: 'uphold_appeal'; appealId: string }
  /** Nothing to do, and why (logged): a repeat, a stale revision, or a change we never make. */
  | { kind: 'ignore'; why: string };

const DEFAULT_REJECT_REASON = 'REJECTED_IN_REVIEW';

/**
 * What a verdict does, given where the submission stands:
 * - in review: approve; reject; or ask for the one revision (a second "revision" on the revision
 *   is a final rejection);
 * - a verdict on another revision than the one in review is stale;
 * - an appeal verdict (naming the open appeal) overturns the rejection (approve) or upholds it;
 * - a later verdict that approves a rejected submission (QC re-judged it after pruning a bad judge)
 *   overturns it too; an approved submission is never un-approved (the money has moved);
 * - a repeated verdict changes nothing.
 */
export function decideVerdict(state: VerdictState, verdict: Verdict, rules: VerdictRules): VerdictOutcome {
  if (verdict.revision !== state.revision) {
    return {
      kind: 'ignore',
      why: `verdict on revision ${verdict.revision}, submission is at ${state.revision}`,
    };
  }
  const reasons = verdict.reasonCodes.length > 0 ? verdict.reasonCodes : [DEFAULT_REJECT_REASON];
  switch (state.status) {
    case 'received':
      return { kind: 'ignore', why: 'a verdict before pre-validation passed' };
    case 'revision_requested':
      return { kind: 'ignore', why: 'the revision asked for has not been handed in' };
    case 'in_review':
      if (verdict.verdict === 'approve') return { kind: 'approve', overturn: false };
      if (verdict.verdict === 'reject') return { kind: 'reject', stage: 'review', reasonCodes: reasons };
      if (state.revision >= 2) return { kind: 'reject', stage: 'revision', reasonCodes: reasons };
      return {
        kind: 'ask_revision',
        deadline: new Date(state.now.getTime() + rules.revisionWindowMs),
        reasonCodes: verdict.reasonCodes,
      };
    case 'approved':
      return verdict.verdict === 'approve'
        ? { kind: 'ignore', why: 'already approved' }
        : { kind: 'ignore', why: 'an approved submission is never un-approved' };
    case 'rejected':
      if (verdict.appealId !== null) {
        if (verdict.appealId !== state.openAppealId) return { kind: 'ignore', why: 'not the open appeal' };
        return verdict.verdict === 'approve'
          ? { kind: 'approve', overturn: true }
          : { kind: 'uphold_appeal', appealId: verdict.appealId };
      }
      return verdict.verdict === 'approve'
        ? { kind: 'approve', overturn: true }
        : { kind: 'ignore', why: 'already rejected' };
  }
}
