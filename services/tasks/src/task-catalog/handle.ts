import { randomUUID } from 'node:crypto';
import {
  buildEvent,
  type TaskDifficulty,
  type TaskInput,
  type TaskType,
  type TesseraEvent,
} from '@tessera/contracts';
import {
  appendToOutbox,
  assertCompanyAccess,
  type Cause,
  eventMeta,
  orRefuse,
  type Principal,
  refusal,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import {
  type CampaignRecord,
  campaignNotFound,
  findCampaign,
  reconcileCampaign,
} from '../campaigns/index.ts';
import type { TasksDB } from '../db/schema.ts';
import { normaliseLanguages } from '../eligibility/index.ts';
import { taskAccess } from './access.ts';
import { decideContent, normaliseRegions } from './content.ts';
import {
  type CampaignTerms,
  decideArchive,
  decideDeadline,
  decideTaskEdit,
  decideTaskInCampaign,
} from './decide.ts';
import { taskSnapshot } from './present.ts';
import { completeIfDone, findTask, insertTask, type TaskRecord, updateTask } from './repository.ts';

/**
 * What a company does with its campaigns' tasks. Each use case runs in the caller's transaction and
 * locks the campaign first, then the task: the order every claim and settlement uses.
 */

type Db = Kysely<TasksDB>;

export const taskNotFound = () => refusal('not_found', 'TASK_NOT_FOUND', 'No such task.');

/** Everything a company writes about a task and may later replace. */
export interface TaskFields {
  title: string;
  description: string;
  input: Record<string, unknown>;
  difficulty: TaskDifficulty;
  reward: { amount: number; currency: string };
  xp_reward: number;
  time_estimate?: string | null | undefined;
  max_submissions: number;
  judges_required: number;
  judge_fee?: { amount: number; currency: string } | undefined;
  max_judges: number;
  min_trust_score: number;
  min_level: number;
  required_languages: readonly string[];
  regions: readonly string[];
  is_priority: boolean;
  deadline?: string | null | undefined;
  claim_ttl_seconds?: number | undefined;
  is_golden: boolean;
  golden_answer?: Record<string, unknown> | null | undefined;
}

/** A task's content and deadline, checked before anything is loaded (content.ts, decide.ts). */
export interface CheckedTask {
  input: TaskInput;
  goldenAnswer: Record<string, unknown> | null;
  deadline: Date | null;
}

/**
 * Checks what a company wrote: the typed input and golden answer for the task's type, and a
 * deadline ahead of `now` (`stored`: the deadline it had, which may stay as it was).
 */
export function checkTask(type: TaskType, fields: TaskFields, now: Date, stored?: Date | null): CheckedTask {
  const content = orRefuse(decideContent(type, fields));
  const deadline = orRefuse(
    decideDeadline(fields.deadline ? new Date(fields.deadline) : null, { now, stored }),
  );
  return { ...content, deadline };
}

export interface NewTask {
  campaignId: string;
  type: TaskType;
  fields: TaskFields;
  checked: CheckedTask;
  /** The claim duration when the task does not say (TASKS_DEFAULT_CLAIM_TTL_SECONDS). */
  defaultClaimTtl: number;
}

/** Publishes a task in a campaign whose company `principal` may write to. */
export async function publishTask(
  trx: Db,
  principal: Principal,
  task: NewTask,
  now: Date,
): Promise<TaskRecord> {
  const found = await findCampaign(trx, task.campaignId);
  if (!found) throw campaignNotFound();
  await assertCompanyAccess(trx, principal, found.company_id, 'write', taskAccess, campaignNotFound());
  const campaign = await findCampaign(trx, found.id, { lock: true });
  if (!campaign) throw campaignNotFound();
  orRefuse(decideTaskInCampaign(termsOf(campaign), task.fields));

  const created = await insertTask(trx, {
    id: randomUUID(),
    campaign_id: campaign.id,
    company_id: campaign.company_id,
    task_type: task.type,
    ...columnsOf(task.fields, task.checked, task.defaultClaimTtl, feeDefaults(campaign)),
    status: 'active',
    created_by: principal.userId.toLowerCase(),
    created_at: now,
    updated_at: now,
  });
  await appendToOutbox(trx, [
    buildEvent('tasks.task.published.v1', taskSnapshot(created), eventMeta(created.id, now)),
  ]);
  // A new task may make a campaign paused for want of budget claimable again, or not.
  await reconcileCampaign(trx, campaign.id, now);
  return created;
}

export interface TaskChange {
  fields: TaskFields;
  checked: CheckedTask;
  /** Absent: unchanged. Archive with `archiveTask`. */
  status?: 'active' | 'paused' | undefined;
  defaultClaimTtl: number;
}

/**
 * Replaces a task's editable fields, and pauses or resumes it. Only future claims see a new reward
 * and XP: every assignment already made stores the reward it was promised at claim time, and is
 * paid that.
 */
export async function editTask(
  trx: Db,
  existing: TaskRecord,
  change: TaskChange,
  now: Date,
): Promise<TaskRecord> {
  const campaign = await findCampaign(trx, existing.campaign_id, { lock: true });
  const before = await findTask(trx, existing.id, { lock: true });
  if (!campaign || !before) throw taskNotFound();
  const decided = orRefuse(
    decideTaskEdit(
      { task: before, campaign: termsOf(campaign) },
      { ...change.fields, ...(change.status ? { status: change.status } : {}) },
    ),
  );
  const after = await updateTask(trx, before.id, {
    ...columnsOf(change.fields, change.checked, change.defaultClaimTtl, feeDefaults(campaign)),
    status: decided.status,
    updated_at: now,
  });
  const ref = { task_id: after.id, campaign_id: after.campaign_id, company_id: after.company_id };
  const meta = eventMeta(after.id, now);
  const events: TesseraEvent[] = [buildEvent('tasks.task.updated.v1', taskSnapshot(after), meta)];
  if (decided.change === 'paused') events.push(buildEvent('tasks.task.paused.v1', ref, meta));
  if (decided.change === 'resumed') events.push(buildEvent('tasks.task.resumed.v1', ref, meta));
  await appendToOutbox(trx, events);
  await reconcileCampaign(trx, campaign.id, now);
  return after;
}

/** Archives a task: it takes no more claims (claims already made may still be submitted). */
export async function archiveTask(trx: Db, existing: TaskRecord, now: Date): Promise<TaskRecord> {
  const campaign = await findCampaign(trx, existing.campaign_id, { lock: true });
  const before = await findTask(trx, existing.id, { lock: true });
  if (!campaign || !before) throw taskNotFound();
  if (orRefuse(decideArchive(before)) === 'unchanged') return before;
  const after = await updateTask(trx, before.id, { status: 'archived', updated_at: now });
  await appendToOutbox(trx, [
    buildEvent(
      'tasks.task.closed.v1',
      {
        task_id: after.id,
        campaign_id: after.campaign_id,
        company_id: after.company_id,
        reason_code: 'archived',
      },
      eventMeta(after.id, now),
    ),
  ]);
  await reconcileCampaign(trx, campaign.id, now);
  return after;
}

/** A task whose approved submissions reached its maximum is done: it closes for good, once. */
export async function completeTaskIfDone(trx: Db, taskId: string, now: Date, cause: Cause): Promise<void> {
  const closed = await completeIfDone(trx, taskId, now);
  if (!closed) return;
  await appendToOutbox(trx, [
    buildEvent(
      'tasks.task.closed.v1',
      {
        task_id: closed.id,
        campaign_id: closed.campaign_id,
        company_id: closed.company_id,
        reason_code: 'completed',
      },
      eventMeta(closed.id, now, cause),
    ),
  ]);
}

const feeDefaults = (campaign: CampaignRecord) => ({
  judgeFee: { amount: Number(campaign.judge_fee_amount) },
});

function termsOf(campaign: CampaignRecord): CampaignTerms {
  return {
    status: campaign.status,
    currency: campaign.currency,
    budget: Number(campaign.budget_amount),
    judgeFee: Number(campaign.judge_fee_amount),
  };
}

/** The stored form of the editable fields (normalised requirements, parsed input). */
function columnsOf(
  fields: TaskFields,
  checked: CheckedTask,
  defaultClaimTtl: number,
  defaults: { judgeFee: { amount: number } },
) {
  return {
    title: fields.title,
    description: fields.description,
    input: JSON.stringify(checked.input),
    is_golden: fields.is_golden,
    golden_answer: checked.goldenAnswer === null ? null : JSON.stringify(checked.goldenAnswer),
    difficulty: fields.difficulty,
    reward_amount: fields.reward.amount,
    currency: fields.reward.currency,
    xp_reward: fields.xp_reward,
    time_estimate: fields.time_estimate ?? null,
    max_submissions: fields.max_submissions,
    judges_required: fields.judges_required,
    judge_fee_amount: (fields.judge_fee ?? defaults.judgeFee).amount,
    max_judges: fields.max_judges,
    min_trust_score: fields.min_trust_score,
    min_level: fields.min_level,
    required_languages: normaliseLanguages(fields.required_languages),
    regions: normaliseRegions(fields.regions),
    is_priority: fields.is_priority,
    claim_ttl_seconds: fields.claim_ttl_seconds ?? defaultClaimTtl,
    deadline: checked.deadline,
  };
}
