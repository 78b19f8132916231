import { moneySchema, timestamp } from '@tessera/service-kit';
import { taskTypes } from '@tessera/contracts';
import { z } from 'zod';
import { submissionStatuses } from '../intake/decide.ts';
import type { SubmissionRow } from '../intake/repository.ts';

export const submissionSchema = z.object({
  id: z.uuid(),
  assignment_id: z.uuid(),
  task_id: z.uuid(),
  campaign_id: z.uuid(),
  task_type: z.enum(taskTypes),
  status: z.enum(submissionStatuses),
  revision: z.number().int(),
  payload: z.record(z.string(), z.unknown()),
  /** Fixed by the claim: what approval pays. */
  reward: moneySchema,
  xp_reward: z.number().int().nonnegative(),
  reason_codes: z.array(z.string()),
  revision_deadline: timestamp.nullable(),
  submitted_at: timestamp,
  decided_at: timestamp.nullable(),
  /** What the contributor can do now, in words. */
  next_step: z.string(),
});

export type SubmissionView = z.infer<typeof submissionSchema>;

export function presentSubmission(row: SubmissionRow): SubmissionView {
  const deadline = row.revision_deadline ? new Date(row.revision_deadline).toISOString() : null;
  return {
    id: row.id,
    assignment_id: row.assignment_id,
    task_id: row.task_id,
    campaign_id: row.campaign_id,
    task_type: row.task_type as SubmissionView['task_type'],
    status: row.status,
    revision: row.revision,
    payload: row.payload as Record<string, unknown>,
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xp_reward: row.xp_reward,
    reason_codes: row.reason_codes,
    revision_deadline: deadline,
    submitted_at: new Date(row.submitted_at).toISOString(),
    decided_at: row.decided_at ? new Date(row.decided_at).toISOString() : null,
    next_step: nextStep(row.status, deadline),
  };
}

/**
 * What a judge QC assigned sees: the work as it was handed in, never where it stands (status,
 * reasons, decision). A honeypot (a settled submission QC mixes into a judge's queue) then looks
 * exactly like work under review.
 */
export function presentForJudge(row: SubmissionRow): SubmissionView {
  return {
    ...presentSubmission(row),
    status: 'in_review',
    reason_codes: [],
    revision_deadline: null,
    decided_at: null,
    next_step: 'Review this work and submit your verdict before your lease ends.',
  };
}

export function nextStep(status: SubmissionRow['status'], revisionDeadline: string | null): string {
  switch (status) {
    case 'received':
      return 'Nothing: your work is being checked automatically.';
    case 'in_review':
      return 'Nothing: reviewers are judging your work.';
    case 'revision_requested':
      return `Hand in one revision under the same claim before ${revisionDeadline ?? 'the deadline'}.`;
    case 'approved':
      return 'Nothing: your work was approved and the reward is on its way to your wallet.';
    case 'rejected':
      return 'Read the reasons; you may appeal once within 7 days of the rejection.';
  }
}
