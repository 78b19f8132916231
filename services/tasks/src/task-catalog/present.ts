import { type EventData, taskDifficulties, taskTypes } from '@tessera/contracts';
import { positiveMoney } from '@tessera/service-kit';
import { z } from 'zod';
import { TASK_STATUSES } from './decide.ts';
import type { TaskRecord } from './repository.ts';

/** The API's views of a task, and the snapshot its events carry. */

const iso = z.string();

/**
 * What a contributor sees of a task. It never holds `is_golden` or `golden_answer` (nor anything
 * that differs between golden and ordinary tasks), so a golden task looks exactly like any other.
 */
export const contributorTaskSchema = z.object({
  id: z.uuid(),
  campaign_id: z.uuid(),
  title: z.string(),
  description: z.string(),
  task_type: z.enum(taskTypes),
  input: z.record(z.string(), z.unknown()),
  difficulty: z.enum(taskDifficulties),
  reward: positiveMoney,
  xp_reward: z.number().int(),
  time_estimate: z.string().nullable(),
  min_trust_score: z.number(),
  min_level: z.number().int(),
  required_languages: z.array(z.string()),
  regions: z.array(z.string()),
  is_priority: z.boolean(),
  claim_ttl_seconds: z.number().int(),
  deadline: iso.nullable(),
  status: z.enum(TASK_STATUSES),
  slots_left: z.number().int(),
  created_at: iso,
});
export type ContributorTaskView = z.infer<typeof contributorTaskSchema>;

/** A feed entry: the contributor view and where it ranks. */
export const feedTaskSchema = contributorTaskSchema.extend({ priority_score: z.number() });
export type FeedTaskView = z.infer<typeof feedTaskSchema>;

/** What the company, its API keys and admins see: everything, golden answer included. */
export const companyTaskSchema = contributorTaskSchema.extend({
  company_id: z.uuid(),
  is_golden: z.boolean(),
  golden_answer: z.record(z.string(), z.unknown()).nullable(),
  max_submissions: z.number().int(),
  judges_required: z.number().int(),
  judge_fee: z.object({ amount: z.number().int(), currency: z.string() }),
  max_judges: z.number().int(),
  slots_taken: z.number().int(),
  submitted_count: z.number().int(),
  approved_count: z.number().int(),
  rejected_count: z.number().int(),
  priority_score: z.number(),
  created_by: z.uuid(),
  updated_at: iso,
});
export type CompanyTaskView = z.infer<typeof companyTaskSchema>;

/**
 * A response that shows a task as its caller may see it: `view` (a contributor's) or the company's.
 * The contributor's view is tried first and only exactly (strict): a company view has more fields,
 * so it fails that branch and keeps them all in its own. Contributors are the many callers; trying
 * the company view first doubled the cost of encoding a feed page (bench:tasks, node CPU of (b)).
 */
export function viewForCaller<View extends z.ZodObject>(view: View) {
  return z.union([view.strict(), companyTaskSchema]);
}

type ViewRow = Pick<
  TaskRecord,
  | 'id'
  | 'campaign_id'
  | 'title'
  | 'description'
  | 'task_type'
  | 'input'
  | 'difficulty'
  | 'reward_amount'
  | 'currency'
  | 'xp_reward'
  | 'time_estimate'
  | 'min_trust_score'
  | 'min_level'
  | 'required_languages'
  | 'regions'
  | 'is_priority'
  | 'claim_ttl_seconds'
  | 'deadline'
  | 'status'
  | 'slots_taken'
  | 'max_submissions'
  | 'created_at'
>;

const isoOrNull = (value: Date | null) => (value === null ? null : value.toISOString());

export function contributorView(row: ViewRow): ContributorTaskView {
  return {
    id: row.id,
    campaign_id: row.campaign_id,
    title: row.title,
    description: row.description,
    task_type: row.task_type,
    input: row.input,
    difficulty: row.difficulty,
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xp_reward: row.xp_reward,
    time_estimate: row.time_estimate,
    min_trust_score: Number(row.min_trust_score),
    min_level: row.min_level,
    required_languages: row.required_languages,
    regions: row.regions,
    is_priority: row.is_priority,
    claim_ttl_seconds: row.claim_ttl_seconds,
    deadline: isoOrNull(row.deadline),
    status: row.status,
    slots_left: Math.max(0, row.max_submissions - row.slots_taken),
    created_at: row.created_at.toISOString(),
  };
}

export function feedView(row: ViewRow & Pick<TaskRecord, 'priority_score'>): FeedTaskView {
  return { ...contributorView(row), priority_score: row.priority_score };
}

export function companyView(row: TaskRecord): CompanyTaskView {
  return {
    ...contributorView(row),
    company_id: row.company_id,
    is_golden: row.is_golden,
    golden_answer: row.golden_answer,
    max_submissions: row.max_submissions,
    judges_required: row.judges_required,
    judge_fee: { amount: Number(row.judge_fee_amount), currency: row.currency },
    max_judges: row.max_judges,
    slots_taken: row.slots_taken,
    submitted_count: row.submitted_count,
    approved_count: row.approved_count,
    rejected_count: row.rejected_count,
    priority_score: row.priority_score,
    created_by: row.created_by,
    updated_at: row.updated_at.toISOString(),
  };
}

/** The full snapshot `tasks.task.published.v1` and `tasks.task.updated.v1` carry. */
export function taskSnapshot(row: TaskRecord): EventData<'tasks.task.published.v1'> {
  return {
    task_id: row.id,
    campaign_id: row.campaign_id,
    company_id: row.company_id,
    title: row.title,
    task_type: row.task_type,
    difficulty: row.difficulty,
    input: row.input,
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xp_reward: row.xp_reward,
    max_submissions: row.max_submissions,
    judges_required: row.judges_required,
    judge_fee: { amount: Number(row.judge_fee_amount), currency: row.currency },
    max_judges: row.max_judges,
    min_trust_score: Number(row.min_trust_score),
    min_level: row.min_level,
    required_languages: row.required_languages,
    regions: row.regions,
    is_priority: row.is_priority,
    is_golden: row.is_golden,
    golden_answer: row.golden_answer,
    claim_ttl_seconds: row.claim_ttl_seconds,
    deadline: isoOrNull(row.deadline),
    status: row.status,
  };
}
