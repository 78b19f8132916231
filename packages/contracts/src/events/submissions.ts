import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';
import { anyTaskInput, taskTypes } from '../task-inputs.ts';

const timestamp = z.iso.datetime({ offset: true });

const submissionRef = {
  submission_id: entityId,
  /** The claim the work was done under (tasks.assignment.claimed.v1). */
  assignment_id: entityId,
  task_id: entityId,
  campaign_id: entityId,
  contributor_id: entityId,
};

/** Where in its life a submission was refused. */
export const rejectionStages = ['pre_validation', 'review', 'revision', 'appeal'] as const;

/** What the fraud checks watch for; a flag never rejects work by itself. */
export const fraudSignals = ['too_fast', 'burst', 'low_approval_rate', 'shared_content'] as const;

/** Kinds of stored media. */
export const mediaKinds = ['audio', 'image'] as const;

/** Submissions: work handed in under a claim, its pre-validation, verdicts, revisions and appeals. */
export const submissionsEvents = [
  defineEvent('submissions.submission.received.v1', {
    description:
      'A contributor submitted work under a claim; it holds its slot until it is approved or rejected.',
    data: z.object({ ...submissionRef }),
  }),
  defineEvent('submissions.submission.validated.v1', {
    description:
      "A submission (or its revision) passed pre-validation and waits for review. It carries references, not the work itself: judges read the content through submissions. `answer` is the structured answer of the task types that have one (the option, the labels, the preference), shaped like the task type's golden answer, for golden checks and answer aggregation.",
    data: z.object({
      ...submissionRef,
      company_id: entityId,
      task_type: z.enum(taskTypes),
      /** 1 for the first hand-in, 2 for the one revision a reviewer may ask for. */
      revision: z.number().int().min(1).max(2),
      judges_required: z.number().int().positive(),
      /** The claim's terms for judging (tasks.assignment.claimed.v1); absent: no fee, 5 judges at most. */
      judge_fee: money.optional(),
      max_judges: z.number().int().positive().max(15).optional(),
      is_golden: z.boolean(),
      answer: anyTaskInput.nullable(),
      media: z
        .array(
          z.object({
            media_id: entityId,
            kind: z.enum(mediaKinds),
            sha256: z.string().regex(/^[0-9a-f]{64}$/),
          }),
        )
        .max(10),
      submitted_at: timestamp,
    }),
  }),
  defineEvent('submissions.submission.rejected.v1', {
    description:
      'A submission failed pre-validation or review; its slot is free again. It may be appealed until `appealable_until` (a campaign does not close before).',
    data: z.object({
      ...submissionRef,
      reason_code: reasonCode,
      /** Every reason, the first of which is `reason_code`; absent from producers that predate it. */
      reason_codes: z.array(reasonCode).min(1).max(20).optional(),
      stage: z.enum(rejectionStages).optional(),
      /**
       * Until when the contributor may appeal it (the end of the appeal window); absent from
       * producers that predate it (consumers then assume 7 days from the event's time).
       */
      appealable_until: timestamp.optional(),
    }),
  }),
  defineEvent('submissions.submission.revision-requested.v1', {
    description:
      'Review asked for one revision: the contributor may hand in once more under the same claim before the deadline; the claim keeps its slot meanwhile.',
    data: z.object({ ...submissionRef, reason_codes: z.array(reasonCode).max(20), deadline: timestamp }),
  }),
  defineEvent('submissions.submission.approved.v1', {
    description:
      "A submission passed review: the ledger pays the reward from the campaign's budget to the contributor, engagement awards XP.",
    data: z.object({
      submission_id: entityId,
      /** The claim the work was done under; absent from producers that predate it. */
      assignment_id: entityId.optional(),
      task_id: entityId,
      campaign_id: entityId,
      contributor_id: entityId,
      reward: money,
      xp_reward: z.number().int().nonnegative().max(1_000_000),
      /** How the verdict was reached; `appeal` when an admin overturned a rejection. */
      method: z.enum(['consensus', 'golden', 'admin', 'appeal']).optional(),
    }),
  }),
  defineEvent('submissions.appeal.filed.v1', {
    description:
      "A contributor appealed a rejection (once, within 7 days); QC's admin queue decides it, and its verdict (method `appeal`) approves or upholds.",
    data: z.object({
      appeal_id: entityId,
      ...submissionRef,
      company_id: entityId,
      /** The contributor's reason, as they wrote it (bounded; no personal data is asked for). */
      reason: z.string().min(1).max(2000),
      rejected_reason_codes: z.array(reasonCode).max(20),
    }),
  }),
  defineEvent('submissions.appeal.decided.v1', {
    description:
      'QC decided an appeal: `overturned` (the submission is approved and paid: submissions.submission.approved.v1 follows with method `appeal`) or `upheld` (the rejection stands, for good).',
    data: z.object({
      appeal_id: entityId,
      ...submissionRef,
      outcome: z.enum(['overturned', 'upheld']),
    }),
  }),
  defineEvent('submissions.bundle.published.v1', {
    description:
      "A company froze its campaign's approved work into a new dataset bundle version (immutable); engagement tells the company's webhooks.",
    data: z.object({
      bundle_id: entityId,
      campaign_id: entityId,
      company_id: entityId,
      version: z.number().int().positive(),
      items: z.number().int().nonnegative(),
      manifest_sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  }),
  defineEvent('submissions.contributor.flagged.v1', {
    description:
      'A fraud signal fired for a contributor. Flags never reject work; admins review them and engagement weighs them in the trust score.',
    data: z.object({
      flag_id: entityId,
      contributor_id: entityId,
      signal: z.enum(fraudSignals),
      submission_id: entityId.nullable(),
      campaign_id: entityId.nullable(),
    }),
  }),
] as const;
