import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money } from '../schemas.ts';

/** Submissions: the outcomes other services act on. The submissions issue adds the rest. */
export const submissionsEvents = [
  defineEvent('submissions.submission.approved.v1', {
    description:
      "A submission passed review: the ledger pays the reward from the campaign's budget to the contributor, engagement awards XP.",
    data: z.object({
      submission_id: entityId,
      task_id: entityId,
      campaign_id: entityId,
      contributor_id: entityId,
      reward: money,
      xp_reward: z.number().int().nonnegative().max(1_000_000),
    }),
  }),
] as const;
