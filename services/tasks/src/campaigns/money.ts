import type { CampaignPauseReason, CampaignStatus } from './decide.ts';

/**
 * A campaign's money as tasks sees it: sums of what the ledger reported (funded, spent, returned)
 * and of what claims hold (reserved: the rewards of open claims and of submissions under review;
 * owed: approved rewards the ledger has not reported paid). Each is a sum of increments, so the
 * order in which events from different streams arrive does not change the result.
 */
export interface CampaignMoney {
  funded: number;
  spent: number;
  returned: number;
  reserved: number;
  owed: number;
}

/** What a new claim may still promise: nothing is promised that the escrow cannot pay. */
export function availableToPromise(money: CampaignMoney): number {
  return money.funded - money.spent - money.returned - money.reserved - money.owed;
}

export interface CampaignFacts {
  status: CampaignStatus;
  pause_reason: CampaignPauseReason | null;
  target_count: number | null;
  approved_count: number;
  money: CampaignMoney;
  close_event: 'completed' | 'cancelled' | null;
  close_event_sent: boolean;
  /** The smallest reward among tasks that could take a claim now; null when there is none. */
  cheapest_open_reward: number | null;
  /**
   * The latest end of an appeal window among its rejections not appealed yet; null when there is
   * none. Until it passes, an appeal may still re-hold a reward the escrow must pay.
   */
  appealable_until: Date | null;
}

export type Automation =
  | { kind: 'none' }
  | { kind: 'pause'; reason: Exclude<CampaignPauseReason, 'manual'> }
  | { kind: 'resume' }
  /**
   * The campaign ended, nothing in it is still to be paid and no rejection can still be appealed:
   * the ledger may return the rest.
   */
  | { kind: 'announce-close'; event: 'completed' | 'cancelled' };

export function targetReached(facts: Pick<CampaignFacts, 'target_count' | 'approved_count'>): boolean {
  return facts.target_count !== null && facts.approved_count >= facts.target_count;
}

function budgetShort(facts: CampaignFacts): boolean {
  return facts.cheapest_open_reward !== null && availableToPromise(facts.money) < facts.cheapest_open_reward;
}

/** A campaign as a claim leaves it, read under the campaign's lock right after the reservation. */
export interface AfterClaim {
  status: CampaignStatus;
  close_event: 'completed' | 'cancelled' | null;
  target_count: number | null;
  approved_count: number;
  /** What the campaign can still promise, this claim's hold already taken. */
  available: number;
  /** The claimed task is active and has a free slot left. */
  task_open: boolean;
  /** What one more claim of the claimed task would hold (its `claim_hold_amount`). */
  task_hold: number;
}

/**
 * Whether a claim can be seen to leave the campaign's automation with nothing to do
 * (`decideAutomation` would answer `none`), without reading anything more: the campaign is active
 * with no close pending and its target not met, and the claimed task still has a free slot the
 * campaign can pay for, so its cheapest open task (which holds no more than this one) is
 * affordable too. The claim then skips the automation's two reads under the campaign's lock, the
 * row every claim of the campaign queues on.
 */
export function claimLeavesCampaignAsIs(after: AfterClaim): boolean {
  return (
    after.status === 'active' &&
    after.close_event === null &&
    !targetReached(after) &&
    after.task_open &&
    after.available >= after.task_hold
  );
}

/**
 * Whether a rejection of the campaign can still be appealed at `now` (submissions accepts an appeal
 * up to its window's end, inclusive), or its appeal still be on its way (`APPEAL_NEWS_GRACE_MS`): an
 * overturned appeal re-holds its reward and must be paid.
 */
export function appealsOpen(facts: Pick<CampaignFacts, 'appealable_until'>, now: Date): boolean {
  return (
    facts.appealable_until !== null &&
    facts.appealable_until.getTime() + APPEAL_NEWS_GRACE_MS >= now.getTime()
  );
}

/**
 * How long after a window's end the campaign still waits: an appeal filed at its last moment
 * reaches this service through the bus, possibly behind a lagging consumer.
 */
export const APPEAL_NEWS_GRACE_MS = 3_600_000;

/**
 * What a campaign does by itself after something changed: it pauses when its target is met or
 * its budget cannot pay the next reward, resumes when that is no longer so (never after a manual
 * pause), and, once ended, announces its close when no claim or unpaid approval is left and no
 * rejection can still be appealed (the schedule job looks again once the last window passed).
 */
export function decideAutomation(facts: CampaignFacts, now: Date): Automation {
  if (facts.close_event !== null) {
    const settled = facts.money.reserved === 0 && facts.money.owed <= 0 && !appealsOpen(facts, now);
    return !facts.close_event_sent && settled
      ? { kind: 'announce-close', event: facts.close_event }
      : { kind: 'none' };
  }
  if (facts.status === 'active') {
    if (targetReached(facts)) return { kind: 'pause', reason: 'target_reached' };
    if (budgetShort(facts)) return { kind: 'pause', reason: 'budget_exhausted' };
    return { kind: 'none' };
  }
  if (facts.status === 'paused' && facts.pause_reason !== 'manual') {
    const canPay = facts.cheapest_open_reward === null || !budgetShort(facts);
    if (!targetReached(facts) && canPay && facts.cheapest_open_reward !== null) return { kind: 'resume' };
  }
  return { kind: 'none' };
}
