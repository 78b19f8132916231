import { accept, type Decision, refusal, reject } from '@tessera/service-kit';

/**
 * What a company may do with a task, as pure rules: publish it into a campaign, change it, pause,
 * resume or archive it. Its content (typed input, golden answer) is content.ts's.
 */

export const TASK_STATUSES = ['active', 'paused', 'completed', 'archived'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Whether a task's status may move from `from` to `to`; staying put is always allowed. */
export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  if (from === to) return true;
  if (isClosed(from)) return false;
  // active ⇄ paused by hand; either may close for good (archived by the company, completed).
  return true;
}

/** Archived and completed tasks are final: nothing about them changes any more. */
export function isClosed(status: TaskStatus): boolean {
  return status === 'archived' || status === 'completed';
}

export type StatusChange = 'paused' | 'resumed' | 'archived' | 'completed' | null;

/** What a status change announces (`tasks.task.paused/resumed/closed`), or null when none. */
export function statusChange(from: TaskStatus, to: TaskStatus): StatusChange {
  if (from === to) return null;
  if (to === 'paused') return 'paused';
  if (to === 'active') return 'resumed';
  return to;
}

/** What publishing or changing a task needs to know about its campaign. */
export interface CampaignTerms {
  status: string;
  currency: string;
  /** The whole budget asked for, in minor units. */
  budget: number;
  /** The judge fee of tasks that do not set their own. */
  judgeFee: number;
}

/** The money a task offers. */
export interface TaskOffer {
  reward: { amount: number; currency: string };
  /** Absent: the campaign's. */
  judge_fee?: { amount: number; currency: string } | undefined;
  judges_required: number;
  max_judges: number;
}

/** Tasks may be added to and changed in campaigns that are not over. */
const OPEN_CAMPAIGN = ['draft', 'funding', 'active', 'paused'];

/**
 * Whether a task offering `offer` may sit in the campaign: the campaign is not over, the reward
 * and judge fee are in its currency, `max_judges` covers `judges_required`, and one claim's hold
 * (the reward and `max_judges` fees) fits within the whole budget.
 */
export function decideTaskInCampaign(campaign: CampaignTerms, offer: TaskOffer): Decision<void> {
  if (!OPEN_CAMPAIGN.includes(campaign.status)) {
    return reject(
      refusal('conflict', 'CAMPAIGN_CLOSED', `The campaign is ${campaign.status}; its tasks cannot change.`),
    );
  }
  if (
    offer.reward.currency !== campaign.currency ||
    (offer.judge_fee && offer.judge_fee.currency !== campaign.currency)
  ) {
    return reject(
      refusal(
        'unprocessable',
        'CURRENCY_MISMATCH',
        `The reward and judge fee must be in the campaign's currency, ${campaign.currency}.`,
      ),
    );
  }
  if (offer.max_judges < offer.judges_required) {
    return reject(
      refusal(
        'unprocessable',
        'MAX_JUDGES_BELOW_REQUIRED',
        `max_judges (${offer.max_judges}) must be at least judges_required (${offer.judges_required}).`,
      ),
    );
  }
  const hold = offer.reward.amount + offer.max_judges * (offer.judge_fee?.amount ?? campaign.judgeFee);
  if (hold > campaign.budget) {
    return reject(
      refusal(
        'unprocessable',
        'REWARD_EXCEEDS_BUDGET',
        `The reward and the fees of judging it (${hold}) are more than the campaign's whole budget (${campaign.budget} ${campaign.currency}).`,
      ),
    );
  }
  return accept(undefined);
}

/**
 * A deadline must lie ahead when it is set; a deadline kept as it was (`stored`) may have passed.
 */
export function decideDeadline(
  deadline: Date | null,
  context: { now: Date; stored?: Date | null },
): Decision<Date | null> {
  if (
    deadline !== null &&
    deadline.getTime() <= context.now.getTime() &&
    deadline.getTime() !== context.stored?.getTime()
  ) {
    return reject(refusal('unprocessable', 'DEADLINE_PASSED', 'The deadline must be in the future.'));
  }
  return accept(deadline);
}

/** What a change of a task needs to know about it now (under its lock). */
export interface TaskState {
  status: TaskStatus;
  slots_taken: number;
}

export interface TaskEdit extends TaskOffer {
  max_submissions: number;
  /** Absent: unchanged. */
  status?: 'active' | 'paused' | undefined;
}

/**
 * Whether a task may be changed as asked: it is not closed, its campaign takes the change, its
 * maximum stays at or above the slots already taken, and its status may move so. Decides the new
 * status and what that change announces.
 */
export function decideTaskEdit(
  state: { task: TaskState; campaign: CampaignTerms },
  edit: TaskEdit,
): Decision<{ status: TaskStatus; change: StatusChange }> {
  const { task } = state;
  if (isClosed(task.status)) {
    return reject(
      refusal('conflict', 'TASK_CLOSED', `The task is ${task.status}; it cannot change any more.`),
    );
  }
  const inCampaign = decideTaskInCampaign(state.campaign, edit);
  if (!inCampaign.ok) return inCampaign;
  if (edit.max_submissions < task.slots_taken) {
    return reject(
      refusal(
        'conflict',
        'MAX_BELOW_TAKEN',
        `max_submissions (${edit.max_submissions}) is below the ${task.slots_taken} slots already taken.`,
      ),
    );
  }
  const status = edit.status ?? task.status;
  if (!canTransition(task.status, status)) {
    return reject(refusal('conflict', 'TASK_CLOSED', `A ${task.status} task cannot become ${status}.`));
  }
  return accept({ status, change: statusChange(task.status, status) });
}

/** Archiving: an archived task stays as it is; a completed one cannot be archived. */
export function decideArchive(task: Pick<TaskState, 'status'>): Decision<'archive' | 'unchanged'> {
  if (task.status === 'archived') return accept('unchanged');
  if (task.status === 'completed') {
    return reject(refusal('conflict', 'TASK_CLOSED', 'The task is completed; it cannot be archived.'));
  }
  return accept('archive');
}
