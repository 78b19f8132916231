import { moneySchema, timestamp } from '@tessera/service-kit';
import { z } from 'zod';
import { ASSIGNMENT_STATUSES } from './decide.ts';
import type { AssignmentRecord } from './repository.ts';

export const assignmentSchema = z.object({
  id: z.uuid(),
  task_id: z.uuid(),
  campaign_id: z.uuid(),
  contributor_id: z.uuid(),
  status: z.enum(ASSIGNMENT_STATUSES),
  /** Fixed at claim time: a later change to the task does not change it. */
  reward: moneySchema,
  xp_reward: z.number().int().nonnegative(),
  submission_id: z.uuid().nullable(),
  claimed_at: timestamp,
  expires_at: timestamp,
  ended_at: timestamp.nullable(),
  settled_at: timestamp.nullable(),
});

export type AssignmentView = z.infer<typeof assignmentSchema>;

export function presentAssignment(row: AssignmentRecord): AssignmentView {
  return {
    id: row.id,
    task_id: row.task_id,
    campaign_id: row.campaign_id,
    contributor_id: row.contributor_id,
    status: row.status,
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xp_reward: row.xp_reward,
    submission_id: row.submission_id,
    claimed_at: row.claimed_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    ended_at: row.ended_at?.toISOString() ?? null,
    settled_at: row.settled_at?.toISOString() ?? null,
  };
}
