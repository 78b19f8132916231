import { accept, type Decision, type Refusal, refusal, reject } from '@tessera/service-kit';

/**
 * A campaign's lifecycle, as pure rules:
 *
 *   draft → funding → active ⇄ paused → completed | cancelled
 *
 * `funding` waits for the ledger's answer to an activation request (funded → active; rejected →
 * back to draft). Money rules (auto-pause and resume, when the close is announced) live in
 * money.ts; this module says which commands a company may give in which state.
 */

export const CAMPAIGN_STATUSES = ['draft', 'funding', 'active', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const PAUSE_REASONS = ['manual', 'budget_exhausted', 'target_reached'] as const;
export type CampaignPauseReason = (typeof PAUSE_REASONS)[number];

/** What a company (or the schedule) asks of a campaign. */
export type CampaignCommand =
  | 'activate'
  | 'top-up'
  | 'pause'
  | 'resume'
  | 'cancel'
  | 'complete'
  /** Name, description, target, schedule, privacy. */
  | 'edit'
  /** The budget's amount: only while nothing was asked of the ledger yet; never its currency. */
  | 'edit-budget'
  | 'invite';

/** What a command needs to know about the campaign. */
export interface CampaignState {
  status: CampaignStatus;
  pause_reason: CampaignPauseReason | null;
  end_at: Date | null;
  currency: string;
}

export interface CommandContext {
  now: Date;
  /** A funding request (activation or top-up) the ledger has not answered yet. */
  fundingPending?: boolean;
  /** For a top-up or a budget edit: the currency of the amount given. */
  currency?: string;
}

export type CampaignRequest = CommandContext & { command: CampaignCommand };

export function isClosed(status: CampaignStatus): boolean {
  return status === 'completed' || status === 'cancelled';
}

export function hasEnded(campaign: Pick<CampaignState, 'end_at'>, now: Date): boolean {
  return campaign.end_at !== null && campaign.end_at.getTime() <= now.getTime();
}

/** A conflict with the campaign's state: the same command may succeed once the state changes. */
const conflict = (code: string, detail: string) => reject(refusal('conflict', code, detail));
/** A request that cannot be met as asked. */
const unprocessable = (code: string, detail: string) => reject(refusal('unprocessable', code, detail));

/** Whether `request.command` may be given to a campaign in `campaign`'s state. */
export function decideCampaignCommand(campaign: CampaignState, request: CampaignRequest): Decision<void> {
  const { status } = campaign;
  const ok = accept(undefined);
  const closed = () => conflict('CAMPAIGN_CLOSED', `The campaign is ${status}; it can no longer change.`);
  switch (request.command) {
    case 'activate':
      if (status !== 'draft')
        return conflict('CAMPAIGN_NOT_DRAFT', `Only a draft can be activated; this campaign is ${status}.`);
      if (hasEnded(campaign, request.now))
        return unprocessable('CAMPAIGN_ENDED', 'The campaign ended (end_at has passed); move end_at first.');
      return ok;
    case 'top-up':
      if (status !== 'active' && status !== 'paused')
        return conflict(
          'CAMPAIGN_NOT_RUNNING',
          `Only an active or paused campaign can be topped up; this campaign is ${status}.`,
        );
      if (hasEnded(campaign, request.now))
        return unprocessable(
          'CAMPAIGN_ENDED',
          'The campaign ended (end_at has passed); it takes no more money.',
        );
      if (request.currency !== undefined && request.currency !== campaign.currency)
        return unprocessable(
          'CURRENCY_MISMATCH',
          `The campaign is funded in ${campaign.currency}; a top-up must be in the same currency.`,
        );
      return ok;
    case 'pause':
      // A campaign the automation paused may be pinned paused by hand, so a top-up does not resume it.
      if (status === 'active' || (status === 'paused' && campaign.pause_reason !== 'manual')) return ok;
      return conflict(
        'CAMPAIGN_NOT_ACTIVE',
        status === 'paused'
          ? 'The campaign is already paused by hand.'
          : `Only an active campaign can be paused; this campaign is ${status}.`,
      );
    case 'resume':
      if (status !== 'paused')
        return conflict(
          'CAMPAIGN_NOT_PAUSED',
          `Only a paused campaign can be resumed; this campaign is ${status}.`,
        );
      if (hasEnded(campaign, request.now))
        return unprocessable(
          'CAMPAIGN_ENDED',
          'The campaign ended (end_at has passed); it is being completed.',
        );
      return ok;
    case 'cancel':
    case 'complete':
      if (isClosed(status)) return closed();
      // Money asked for could arrive after the ledger swept the escrow: wait for the answer.
      if (status === 'funding' || request.fundingPending)
        return conflict(
          'CAMPAIGN_FUNDING_IN_PROGRESS',
          'The ledger has not answered a funding request of this campaign yet; try again once it has.',
        );
      return ok;
    case 'edit':
    case 'invite':
      return isClosed(status) ? closed() : ok;
    case 'edit-budget':
      if (isClosed(status)) return closed();
      if (status !== 'draft')
        return conflict(
          'CAMPAIGN_BUDGET_LOCKED',
          'The budget can only change in a draft; top the campaign up instead.',
        );
      // The ledger learned the currency when the campaign was created, and its tasks pay in it.
      if (request.currency !== undefined && request.currency !== campaign.currency)
        return unprocessable(
          'CURRENCY_LOCKED',
          `The campaign's currency is ${campaign.currency}; its budget can change only in that currency.`,
        );
      return ok;
  }
}

export interface Schedule {
  start_at: Date | null;
  end_at: Date | null;
}

export interface ScheduleIssue {
  path: 'start_at' | 'end_at';
  message: string;
}

/**
 * A schedule is valid when it ends after it starts, and a newly set end lies in the future (a
 * campaign asked to end in the past would complete at once). `endChanged` is false when the end
 * date is the stored one, which may have passed already.
 */
export function scheduleIssues(schedule: Schedule, now: Date, endChanged = true): ScheduleIssue[] {
  const issues: ScheduleIssue[] = [];
  const { start_at, end_at } = schedule;
  if (start_at && end_at && end_at.getTime() <= start_at.getTime())
    issues.push({ path: 'end_at', message: 'must be after start_at' });
  if (end_at && endChanged && end_at.getTime() <= now.getTime())
    issues.push({ path: 'end_at', message: 'must be in the future' });
  return issues;
}

/**
 * A changed schedule: refused as invalid input when `scheduleIssues` finds any, with each issue
 * under the body field it names (as the API reports any other invalid field).
 */
export function decideSchedule(
  schedule: Schedule,
  change: { now: Date; endChanged: boolean },
): Decision<Schedule> {
  const issues = scheduleIssues(schedule, change.now, change.endChanged);
  if (issues.length === 0) return accept(schedule);
  const errors = issues.map((issue) => ({ path: `body.${issue.path}`, message: issue.message }));
  return reject(invalidInput(errors));
}

function invalidInput(errors: { path: string; message: string }[]): Refusal {
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return refusal('invalid', 'VALIDATION_FAILED', detail, { errors });
}

/** How far a campaign is toward its target: approved / target, 0..1; null without a target. */
export function completionOf(approved: number, target: number | null): number | null {
  if (target === null || target <= 0) return null;
  return Math.min(1, Math.max(0, approved / target));
}
