import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';
import { anyTaskInput } from '../task-inputs.ts';

const timestamp = z.iso.datetime({ offset: true });

/** What a verdict says of a submission. */
export const verdicts = ['approve', 'reject', 'revision'] as const;

/** How a verdict was reached. */
export const verdictMethods = ['consensus', 'golden', 'admin', 'appeal'] as const;

/**
 * Quality control: judge work, reach verdicts, pay judges. Submissions declared the verdict shapes
 * it acts on (the submissions issue); the QC issue adds the rest of the family.
 */
export const qcEvents = [
  defineEvent('qc.review.fee-earned.v1', {
    description:
      "A judge's review counted toward a consensus: the ledger pays the judge fee from the campaign's budget.",
    data: z.object({
      review_id: entityId,
      submission_id: entityId,
      /** The claim the judged work was done under: tasks moves the fee from what the claim holds to owed. Absent from producers that predate it. */
      assignment_id: entityId.optional(),
      campaign_id: entityId,
      judge_id: entityId,
      fee: money,
    }),
  }),
  defineEvent('qc.honeypot.fee-earned.v1', {
    description:
      "A judge's review of a honeypot (a decided case served again to check judges) is paid like any review: the ledger pays the case's judge fee, funded by the platform, since the campaign paid the case's own judges already. Sent as long after the review as a real case of the moment takes to settle, so that neither the time nor the amount tells the judge it was a honeypot.",
    data: z.object({
      review_id: entityId,
      /** The honeypot case's submission, as a fee of a real review names its own. */
      submission_id: entityId,
      /** The claim the judged work was done under: the ledger pays no more than that claim's judge fee. */
      assignment_id: entityId,
      campaign_id: entityId,
      judge_id: entityId,
      fee: money,
    }),
  }),
  defineEvent('qc.review.counted.v1', {
    description:
      "A judge's review counted toward a verdict (with or without a fee), or a honeypot review was scored (as long after it as a real case takes to settle): engagement credits the judge's review work. `agreed` says whether the vote matched the verdict (a honeypot's: its known verdict).",
    data: z.object({
      review_id: entityId,
      submission_id: entityId,
      judge_id: entityId,
      agreed: z.boolean(),
    }),
  }),
  defineEvent('qc.review.assigned.v1', {
    description:
      'A judge leased a review of a submission: until lease_expires_at (the latest such lease) submissions lets that judge read its content and media.',
    data: z.object({
      review_id: entityId,
      submission_id: entityId,
      judge_id: entityId,
      lease_expires_at: timestamp,
    }),
  }),
  defineEvent('qc.judge.removed.v1', {
    description:
      "A judge lost judging: their accuracy on honeypots fell below the floor. The verdicts their votes decided recently are judged again; engagement may weigh it in the judge's trust.",
    data: z.object({
      judge_id: entityId,
      reason_code: reasonCode,
      honeypot_accuracy: z.number().min(0).max(1),
      honeypots: z.number().int().nonnegative(),
      /** How many recent verdicts are judged again. */
      rejudged: z.number().int().nonnegative(),
    }),
  }),
  defineEvent('qc.submission.verdict-reached.v1', {
    description:
      'QC decided a submission (one revision of it): approve, reject, or ask for one revision. An appeal decision is a verdict with method `appeal` that names the appeal.',
    data: z.object({
      submission_id: entityId,
      /** The revision judged (submissions.submission.validated.v1); a verdict on an older one is stale. */
      revision: z.number().int().min(1).max(2),
      verdict: z.enum(verdicts),
      method: z.enum(verdictMethods),
      /** The posterior of the verdict (1 for golden and admin decisions). */
      confidence: z.number().min(0).max(1),
      /** The judges' mean quality score, when they gave one. */
      quality_score: z.number().min(0).max(1).nullable(),
      reason_codes: z.array(reasonCode).max(20),
      /** The aggregated answer (labels, option, preference) and its confidence, for dataset bundles. */
      answer: anyTaskInput.nullable(),
      answer_confidence: z.number().min(0).max(1).nullable(),
      /** Set when this verdict decides an appeal (submissions.appeal.filed.v1). */
      appeal_id: entityId.optional(),
    }),
  }),
] as const;
