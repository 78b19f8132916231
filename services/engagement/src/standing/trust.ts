/**
 * The trust score: 0 to 10, starting at 5.0, moved by what a contributor's work shows. Shown and
 * published with one decimal; kept at full precision (hundredths: every weight is a multiple of
 * 0.05), so that small steps add up instead of being lost to rounding.
 */
export const TRUST_START = 5.0;
export const TRUST_MIN = 0;
export const TRUST_MAX = 10;

/**
 * What moves trust, and by how much. A golden submission (a task with a known answer) weighs its
 * extra on top of the plain approval or rejection: it proves the answer right or wrong.
 *
 * | cause                                        | weight |
 * |----------------------------------------------|--------|
 * | submission approved                          | +0.05  |
 * | … and it was golden (answered right)         | +0.10  |
 * | rejected by judges (review, revision, appeal) | −0.15  |
 * | … and it was golden (answered wrong)         | −0.30  |
 * | rejected at pre-validation                   | −0.05  |
 * | fraud flag                                   | −0.50  |
 * | removed from judging (honeypot accuracy)     | −1.00  |
 * | rejection overturned on appeal               | the rejection's weight, given back |
 */
export const TRUST_WEIGHTS = {
  approval: 0.05,
  goldenApproval: 0.1,
  reviewRejection: -0.15,
  goldenRejection: -0.3,
  preValidationRejection: -0.05,
  fraudFlag: -0.5,
  judgeRemoved: -1.0,
} as const;

export type RejectionStage = 'pre_validation' | 'review' | 'revision' | 'appeal';

export type TrustCause =
  | { kind: 'approval'; golden: boolean }
  /** `stage` absent: producers that predate it only rejected at review. */
  | { kind: 'rejection'; stage: RejectionStage | undefined; golden: boolean }
  | { kind: 'fraud_flag' }
  | { kind: 'judge_removed' };

const hundredths = (weight: number) => Math.round(weight * 100);

/** Whether a rejection was the judges' (it counts against accuracy) rather than pre-validation's. */
export const judgedRejection = (stage: RejectionStage | undefined): boolean => stage !== 'pre_validation';

/** The movement a cause makes, in hundredths of a point. */
export function trustDelta(cause: TrustCause): number {
  const w = TRUST_WEIGHTS;
  switch (cause.kind) {
    case 'approval':
      return hundredths(w.approval) + (cause.golden ? hundredths(w.goldenApproval) : 0);
    case 'rejection':
      if (!judgedRejection(cause.stage)) return hundredths(w.preValidationRejection);
      return hundredths(w.reviewRejection) + (cause.golden ? hundredths(w.goldenRejection) : 0);
    case 'fraud_flag':
      return hundredths(w.fraudFlag);
    case 'judge_removed':
      return hundredths(w.judgeRemoved);
  }
}

/** One decimal, half up (5.05 shows as 5.1), as Postgres rounds numeric. */
export function shownTrust(exactHundredths: number): number {
  return Math.round(exactHundredths / 10) / 10;
}

export interface TrustMove {
  /** The new score in hundredths, clamped to 0–10. */
  exact: number;
  shown: number;
  /** The score to publish (engagement.contributor.trust-changed.v1), when the shown value changed. */
  publish: number | undefined;
}

/** Moves a score (hundredths) by a delta (hundredths), clamped to 0–10. */
export function moveTrust(exactHundredths: number, delta: number): TrustMove {
  const exact = Math.min(TRUST_MAX * 100, Math.max(TRUST_MIN * 100, exactHundredths + delta));
  const shown = shownTrust(exact);
  return { exact, shown, publish: shown === shownTrust(exactHundredths) ? undefined : shown };
}
