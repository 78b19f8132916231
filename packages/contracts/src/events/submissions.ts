import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';

const submissionRef = {
  submission_id: entityId,
  /** The claim the work was done under (tasks.assignment.claimed.v1). */
  assignment_id: entityId,
  task_id: entityId,
  campaign_id: entityId,
  contributor_id: entityId,
};

/** Submissions: the outcomes other services act on. The submissions issue adds the rest. */
export const submissionsEvents = [
  defineEvent('submissions.submission.received.v1', {
    description:
      'A contributor submitted work under a claim; it holds its slot until it is approved or rejected.',
    data: z.object({ ...submissionRef }),
  }),
  defineEvent('submissions.submission.rejected.v1', {
    description: 'A submission failed pre-validation or review; its slot is free again.',
    data: z.object({ ...submissionRef, reason_code: reasonCode }),
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
    }),
  }),
] as const;
