import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';
import { anyTaskInput, countryCode, languageTag, taskDifficulties, taskTypes } from '../task-inputs.ts';

const timestamp = z.iso.datetime({ offset: true });
const campaignRef = { campaign_id: entityId, company_id: entityId };

/** Why a campaign stopped taking claims for now. */
export const campaignPauseReasons = ['manual', 'budget_exhausted', 'target_reached'] as const;

/** Why a task stopped taking claims for good. */
export const taskCloseReasons = [
  'completed',
  'archived',
  'deleted',
  'campaign_completed',
  'campaign_cancelled',
] as const;

/**
 * Everything another service needs to know about a task, as it now stands. The golden answer is
 * here for QC; contributors never see it (tasks leaves it out of every contributor-facing read).
 */
const taskSnapshot = z.object({
  task_id: entityId,
  ...campaignRef,
  title: z.string().min(1).max(200),
  task_type: z.enum(taskTypes),
  difficulty: z.enum(taskDifficulties),
  input: anyTaskInput,
  reward: money,
  xp_reward: z.number().int().nonnegative().max(1_000_000),
  max_submissions: z.number().int().positive(),
  judges_required: z.number().int().positive(),
  /** What each review counted toward the verdict earns its judge; absent from producers that predate it (no fee). */
  judge_fee: money.optional(),
  /** The most judges QC may ask before escalating (dynamic overlap); absent: 5. */
  max_judges: z.number().int().positive().max(15).optional(),
  min_trust_score: z.number().min(0).max(10),
  min_level: z.number().int().positive(),
  required_languages: z.array(languageTag),
  regions: z.array(countryCode),
  is_priority: z.boolean(),
  is_golden: z.boolean(),
  golden_answer: anyTaskInput.nullable(),
  claim_ttl_seconds: z.number().int().positive(),
  deadline: timestamp.nullable(),
  status: z.enum(['active', 'paused', 'completed', 'archived']),
});

const assignmentRef = {
  assignment_id: entityId,
  task_id: entityId,
  campaign_id: entityId,
  contributor_id: entityId,
};

/** Tasks: campaigns (their schedule and money lifecycle), tasks, and contributors' claims on them. */
export const tasksEvents = [
  defineEvent('tasks.campaign.created.v1', {
    description: 'A company drafted a campaign. Nothing is funded yet.',
    data: z.object({
      ...campaignRef,
      budget: money,
      target_count: z.number().int().positive().nullable(),
      start_at: timestamp.nullable(),
      end_at: timestamp.nullable(),
      is_private: z.boolean(),
    }),
  }),
  defineEvent('tasks.campaign.funding-requested.v1', {
    description:
      "A company asked to activate a campaign: the ledger moves the budget (plus the platform fee) from the company's credits into the campaign's budget, and answers funded or funding-rejected. Each request is its own attempt, identified by the event id.",
    data: z.object({
      ...campaignRef,
      budget: money,
      /** `activation` funds a draft; `top_up` adds to a running campaign's budget. */
      purpose: z.enum(['activation', 'top_up']).optional(),
    }),
  }),
  defineEvent('tasks.campaign.activated.v1', {
    description: 'The ledger funded the campaign: its tasks can be claimed (from start_at on).',
    data: z.object({ ...campaignRef, funded: money }),
  }),
  defineEvent('tasks.campaign.paused.v1', {
    description:
      'The campaign stopped taking claims for now: by hand, because its budget cannot pay the next reward, or because its target is met. Claims already made may still be submitted.',
    data: z.object({ ...campaignRef, reason_code: z.enum(campaignPauseReasons) }),
  }),
  defineEvent('tasks.campaign.resumed.v1', {
    description: 'The campaign takes claims again (by hand, topped up, or its target raised).',
    data: z.object({ ...campaignRef }),
  }),
  defineEvent('tasks.campaign.completed.v1', {
    description:
      'A campaign ended (its end date, or by hand) and no work in it is still to be paid; the ledger returns its remaining budget.',
    data: z.object({ ...campaignRef }),
  }),
  defineEvent('tasks.campaign.cancelled.v1', {
    description:
      'A campaign was cancelled and no work in it is still to be paid; the ledger returns its remaining budget.',
    data: z.object({ ...campaignRef }),
  }),
  defineEvent('tasks.task.published.v1', {
    description: 'A task was published in a campaign; a full snapshot.',
    data: taskSnapshot,
  }),
  defineEvent('tasks.task.updated.v1', {
    description: 'A task changed; a full snapshot as it now stands. Claims already made keep their reward.',
    data: taskSnapshot,
  }),
  defineEvent('tasks.task.paused.v1', {
    description: 'A task stopped taking claims for now.',
    data: z.object({ task_id: entityId, ...campaignRef }),
  }),
  defineEvent('tasks.task.resumed.v1', {
    description: 'A paused task takes claims again.',
    data: z.object({ task_id: entityId, ...campaignRef }),
  }),
  defineEvent('tasks.task.closed.v1', {
    description: 'A task takes no more claims, for good. Claims already made may still be submitted.',
    data: z.object({ task_id: entityId, ...campaignRef, reason_code: z.enum(taskCloseReasons) }),
  }),
  defineEvent('tasks.assignment.claimed.v1', {
    description:
      'A contributor claimed a slot of a task until expires_at. The reward and XP are fixed at claim time: a later change to the task does not lower them.',
    data: z.object({
      ...assignmentRef,
      company_id: entityId,
      reward: money,
      xp_reward: z.number().int().nonnegative().max(1_000_000),
      /**
       * The judge fee and overlap fixed at claim time: the claim holds `reward + max_judges ×
       * judge_fee` of the campaign's budget. Absent from producers that predate them (no fee).
       */
      judge_fee: money.optional(),
      max_judges: z.number().int().positive().max(15).optional(),
      expires_at: timestamp,
    }),
  }),
  defineEvent('tasks.assignment.released.v1', {
    description: 'The contributor gave the claim back before submitting; the slot is free.',
    data: z.object({ ...assignmentRef }),
  }),
  defineEvent('tasks.assignment.expired.v1', {
    description: 'The claim ran out before a submission arrived; the slot is free.',
    data: z.object({ ...assignmentRef, reason_code: reasonCode.optional() }),
  }),
] as const;
