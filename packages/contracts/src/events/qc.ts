import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money } from '../schemas.ts';

/** Quality control: judge work that earns money. The qc issue adds the rest of the family. */
export const qcEvents = [
  defineEvent('qc.review.fee-earned.v1', {
    description:
      "A judge's review counted toward a consensus: the ledger pays the judge fee from the campaign's budget.",
    data: z.object({
      review_id: entityId,
      submission_id: entityId,
      campaign_id: entityId,
      judge_id: entityId,
      fee: money,
    }),
  }),
] as const;
