import { accept, type Decision, type Refusal, refusal, reject } from '@tessera/service-kit';
import type { CampaignStatus } from '../campaigns/index.ts';
import {
  type ContributorStanding,
  type IneligibleReason,
  ineligibility,
  type TaskRequirements,
} from '../eligibility/index.ts';
import type { TaskStatus } from '../task-catalog/index.ts';

/**
 * Claims, as pure rules: who may claim which task now, what the claim holds, and how a claim ends.
 *
 *   active → submitted → approved | rejected        (the work was done)
 *   active → released | expired                     (given back, or its time ran out)
 *
 * An open claim holds one slot of its task, one unit of its campaign's quota and its reward out of
 * the campaign's budget; a submission keeps them until reviewed. The conditional updates in
 * repository.ts (`reserveSlot`) enforce the same limits under concurrency.
 */

export const ASSIGNMENT_STATUSES = [
  'active',
  'submitted',
  'approved',
  'rejected',
  'released',
  'expired',
] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

/** Statuses that hold the (task, contributor) pair: a contributor has at most one of these per task. */
export const LIVE_STATUSES: readonly AssignmentStatus[] = ['active', 'submitted', 'approved', 'rejected'];

/** What a claim needs to know about a task and its campaign. */
export interface ClaimTarget {
  task: {
    status: TaskStatus;
    deadline: Date | null;
    reward: { amount: number; currency: string };
    xp_reward: number;
    /** Each counted review's fee (minor units, the reward's currency) and how many judges at most. */
    judge_fee: number;
    max_judges: number;
    claim_ttl_seconds: number;
    slots_taken: number;
    max_submissions: number;
    requirements: TaskRequirements;
  };
  campaign: {
    status: CampaignStatus;
    start_at: Date | null;
    end_at: Date | null;
    /** What the campaign can still promise (campaigns/money.ts `availableToPromise`). */
    available: number;
    target_count: number | null;
    quota_taken: number;
  };
}

/** Everything a claim is decided on. */
export interface ClaimState {
  target: ClaimTarget;
  standing: ContributorStanding;
  /** Invited to the (private) campaign. */
  invited: boolean;
  /** The contributor already holds a claim or a submission on the task. */
  holdsClaim: boolean;
}

/**
 * What the claim reads again once the reservation locked the campaign and task rows (a second
 * claim by the same contributor is refused by the database's one-live-claim index).
 */
export type LockedClaimState = Omit<ClaimState, 'holdsClaim'>;

/**
 * What a new claim takes out of the campaign's budget: the reward as it is now, and what judging
 * the work may cost (`max_judges` fees), so that neither a reward nor a judge's fee is ever
 * promised from money the escrow does not hold (ADR 003).
 */
export interface Reservation {
  reward: number;
  judgeFee: number;
  maxJudges: number;
  /** reward + maxJudges × judgeFee. */
  hold: number;
}

/** What a claim of `task` holds. */
export function reservationFor(task: ClaimTarget['task']): Reservation {
  const feeHold = task.max_judges * task.judge_fee;
  return {
    reward: task.reward.amount,
    judgeFee: task.judge_fee,
    maxJudges: task.max_judges,
    hold: task.reward.amount + feeHold,
  };
}

const REASON_TEXT: Record<IneligibleReason, string> = {
  ACCOUNT_NOT_ACTIVE: 'your account is not active',
  LEVEL_TOO_LOW: 'your level is below the minimum',
  TRUST_TOO_LOW: 'your trust score is below the minimum',
  LANGUAGE_MISMATCH: 'you do not speak a required language',
  REGION_MISMATCH: 'your country is not one of the task’s regions',
  NOT_INVITED: 'the campaign is private and you are not invited',
};

export const refusals = {
  notEligible: (reasons: IneligibleReason[]) =>
    refusal(
      'forbidden',
      'TASK_NOT_ELIGIBLE',
      `You may not claim this task: ${reasons.map((reason) => REASON_TEXT[reason]).join('; ')}.`,
      { reasons },
    ),
  notAvailable: (why: string) => refusal('conflict', 'TASK_NOT_AVAILABLE', why),
  alreadyClaimed: () =>
    refusal('conflict', 'ALREADY_CLAIMED', 'You already hold a claim or a submission on this task.'),
  quotaReached: () =>
    refusal(
      'conflict',
      'CAMPAIGN_QUOTA_REACHED',
      'The campaign has as many claims and submissions as it asked for.',
    ),
  budgetExhausted: () =>
    refusal(
      'conflict',
      'CAMPAIGN_BUDGET_EXHAUSTED',
      'The campaign’s remaining budget cannot pay this task’s reward and the fees of judging it.',
    ),
  taskFull: () => refusal('conflict', 'TASK_FULL', 'Every slot of this task is taken.'),
};

/** Why a task takes no claim now, whoever asks; null when it does. */
export function unavailability(target: ClaimTarget, now: Date): string | null {
  const { task, campaign } = target;
  if (task.status !== 'active') return `The task is ${task.status}.`;
  if (task.deadline !== null && task.deadline <= now) return 'The task’s deadline has passed.';
  if (campaign.status !== 'active') return `The task’s campaign is ${campaign.status}.`;
  if (campaign.start_at !== null && campaign.start_at > now)
    return 'The task’s campaign has not started yet.';
  if (campaign.end_at !== null && campaign.end_at <= now) return 'The task’s campaign has ended.';
  return null;
}

/**
 * Whether the contributor may claim the task now, and what the claim reserves. In this order:
 * the contributor must be eligible (forbidden otherwise, with every reason), the task and its campaign open, the
 * task not already claimed by them; then the campaign must have quota left and be able to pay
 * the reward, and the task a free slot.
 */
export function decideClaim(state: ClaimState, command: { now: Date }): Decision<Reservation> {
  const { target } = state;
  const reasons = ineligibility(state.standing, target.task.requirements, state.invited);
  if (reasons.length > 0) return reject(refusals.notEligible(reasons));
  const why = unavailability(target, command.now);
  if (why !== null) return reject(refusals.notAvailable(why));
  if (state.holdsClaim) return reject(refusals.alreadyClaimed());
  const { campaign, task } = target;
  if (campaign.target_count !== null && campaign.quota_taken >= campaign.target_count)
    return reject(refusals.quotaReached());
  const reservation = reservationFor(task);
  if (campaign.available < reservation.hold) return reject(refusals.budgetExhausted());
  if (task.slots_taken >= task.max_submissions) return reject(refusals.taskFull());
  return accept(reservation);
}

/** How the reservation's conditional updates ended (repository.ts `reserveSlot`). */
export type ReserveOutcome =
  'reserved' | 'campaign_not_active' | 'budget_exhausted' | 'quota_reached' | 'task_full';

/**
 * A reservation the database refused: another claim took what `decideClaim` saw free. The same
 * refusals, in the same order.
 */
export function decideReservation(outcome: ReserveOutcome): Decision<void> {
  switch (outcome) {
    case 'reserved':
      return accept(undefined);
    case 'campaign_not_active':
      return reject(refusals.notAvailable('The task’s campaign is not active.'));
    case 'quota_reached':
      return reject(refusals.quotaReached());
    case 'budget_exhausted':
      return reject(refusals.budgetExhausted());
    case 'task_full':
      return reject(refusals.taskFull());
  }
}

/** The terms a claim fixes when it is made: a later change to the task does not change them. */
export interface ClaimTerms {
  reward: { amount: number; currency: string };
  xp_reward: number;
  judge_fee: { amount: number; currency: string };
  max_judges: number;
  /** What the claim holds for judge fees until its work is decided. */
  fee_hold: number;
  claimed_at: Date;
  expires_at: Date;
}

/**
 * With the slot reserved and the campaign and task locked: the contributor must still be eligible
 * and the task still take claims, with the same refusals as `decideClaim` (what the locked rows say
 * is what holds: an edit that raised min_level or made the campaign private, a withdrawn invitation
 * or a suspension committed while the claim waited), and the claim's terms are fixed. The reward
 * is the one the reservation held, so releasing the claim frees exactly that.
 */
export function confirmClaim(
  locked: LockedClaimState,
  claim: { now: Date; reserved: Reservation },
): Decision<ClaimTerms> {
  const reasons = ineligibility(locked.standing, locked.target.task.requirements, locked.invited);
  if (reasons.length > 0) return reject(refusals.notEligible(reasons));
  const why = unavailability(locked.target, claim.now);
  if (why !== null) return reject(refusals.notAvailable(why));
  const { task } = locked.target;
  return accept({
    reward: { amount: claim.reserved.reward, currency: task.reward.currency },
    xp_reward: task.xp_reward,
    judge_fee: { amount: claim.reserved.judgeFee, currency: task.reward.currency },
    max_judges: claim.reserved.maxJudges,
    fee_hold: claim.reserved.hold - claim.reserved.reward,
    claimed_at: claim.now,
    expires_at: new Date(claim.now.getTime() + task.claim_ttl_seconds * 1000),
  });
}

/** What an assignment's move does to its task's and campaign's counters (repository.ts). */
export type AssignmentTransition =
  /** active → released / expired: the slot, the quota unit and the reserved reward are free. */
  | { kind: 'freed' }
  /** active → submitted: the work holds its slot until reviewed. */
  | { kind: 'submitted' }
  /** An expired or released claim whose submission arrived anyway: it takes its slot back. */
  | { kind: 'late-submitted' }
  /**
   * submitted → approved: the reserved reward becomes owed until the ledger pays. The fee hold stays
   * until the verdict's judge fees are booked, or until `feesAwaitedUntil` (`feeNewsDeadline`).
   */
  | { kind: 'approved'; owed: number; feesAwaitedUntil: Date }
  /** submitted → rejected: the slot, the quota unit and the reward are free; the fee hold stays as on approval. */
  | { kind: 'rejected'; feesAwaitedUntil: Date }
  /** The verdict's fees had their time to arrive: what the claim still holds for fees is free. */
  | { kind: 'fees-unused' }
  /** A rejection was appealed: the reward, a quota unit and the slot are held again until it is decided. */
  | { kind: 'appeal-held' }
  /** The appeal was upheld: what it held is free for good. */
  | { kind: 'appeal-released' }
  /** The appeal (or a re-judging) overturned the rejection: the held reward becomes owed. */
  | { kind: 'overturned'; owed: number }
  /** The appeal was decided before tasks saw it filed: nothing was held, and nothing will be. */
  | { kind: 'appeal-decided' };

/**
 * Where a rejection's appeal stands on its assignment: none seen, `held` while open (the reward, a
 * quota unit and the slot held again), `decided` once decided or the rejection overturned.
 */
export const APPEAL_STATES = ['none', 'held', 'decided'] as const;
export type AppealState = (typeof APPEAL_STATES)[number];

/** What submissions says about an appeal: filed, or decided (upheld or overturned). */
export type AppealNews = 'filed' | 'upheld' | 'overturned';

/**
 * What an appeal's news does to its assignment; null when nothing. Events may be handled out of
 * order (a retried filing after the decision), so the decision is remembered: an appeal is held
 * once, only while undecided, and what it held is freed once.
 * - filed: a rejection with no appeal seen holds its reward again (`appeal-held`);
 * - upheld: frees what the appeal held (`appeal-released`), or, seen first, marks it decided;
 * - overturned: the approval that comes with it pays what is held (settle.ts `overturn`); seen
 *   first, it marks the appeal decided, so the filing holds nothing.
 */
export function decideAppeal(
  assignment: { status: AssignmentStatus; appeal_state: AppealState },
  news: AppealNews,
): AssignmentTransition | null {
  const { status, appeal_state } = assignment;
  if (news === 'filed')
    return status === 'rejected' && appeal_state === 'none' ? { kind: 'appeal-held' } : null;
  if (appeal_state === 'decided') return null;
  if (appeal_state === 'held') return news === 'upheld' ? { kind: 'appeal-released' } : null;
  return { kind: 'appeal-decided' };
}

/**
 * How long after tasks handled a verdict (approved or rejected) the claim's unused fee hold still
 * waits for the verdict's judge fees, at most. QC writes a verdict and its fees
 * (`qc.review.fee-earned.v1`) in one transaction, the fees first, and this service reads QC's stream
 * in order: QC's own verdict frees the rest of the hold as soon as it is handled
 * (settle.ts `verdictFeesBooked`). Submissions' approval or rejection, on another stream, may come
 * first; freed then, the hold could be promised to another claim, or returned with the escrow of an
 * ended campaign, before the fees it was held for are booked (ADR 003). This is the backstop for a
 * verdict this service never matches to its claim (its receipt not handled yet when QC's verdict
 * came): long, because freeing early is what it guards against.
 */
export const FEE_NEWS_GRACE_MS = 24 * 3_600_000;

/** Until when a claim's unused fee hold waits for the fees of a verdict handled at `handledAt`. */
export function feeNewsDeadline(handledAt: Date): Date {
  return new Date(handledAt.getTime() + FEE_NEWS_GRACE_MS);
}

/**
 * How long a rejection can be appealed when its event does not say (producers that predate
 * `appealable_until`). It must match submissions' `APPEAL_WINDOW_MS` (its appeals/decide.ts).
 */
export const APPEAL_WINDOW_MS = 7 * 24 * 3600_000;

/**
 * Until when a rejection can be appealed: what submissions says, or, from a producer that predates
 * `appealable_until`, the appeal window from the rejection's time, so that no rejection is left
 * unprotected (campaigns/money.ts `decideAutomation` keeps the campaign's escrow until then).
 */
export function appealWindowEnd(reported: Date | undefined, rejectedAt: Date): Date {
  return reported ?? new Date(rejectedAt.getTime() + APPEAL_WINDOW_MS);
}

/**
 * How a claim ends without its work being paid: given back, timed out, or its work rejected (which
 * can be appealed until `appealableUntil`).
 */
export type ClaimEnding =
  | { to: 'released' }
  | { to: 'expired'; reason: 'timeout' | 'account_not_active' }
  /** `feesAwaitedUntil`: until when the claim's fee hold waits for the verdict's fees (`feeNewsDeadline`). */
  | { to: 'rejected'; appealableUntil: Date; feesAwaitedUntil: Date };

/** What ending a claim does: the assignment's new state, what it frees, and what it announces. */
export interface ClaimEnd {
  /** The status the assignment leaves (its row is locked; the update checks it again). */
  from: AssignmentStatus;
  set: { status: AssignmentStatus; ended_at: Date; settled_at: Date; appealable_until?: Date };
  frees: AssignmentTransition;
  /** tasks.assignment.released / expired; a rejection is announced by submissions. */
  announce: { type: 'released' } | { type: 'expired'; reason: 'timeout' | 'account_not_active' } | null;
}

/**
 * Ending a claim. An open claim may be released or expire; it ends now. A submitted one ends when
 * its work is rejected; it ended (as a claim) when the work was submitted. Either way its slot, its
 * quota unit and its reward are free again.
 */
export function decideEnd(
  assignment: { status: AssignmentStatus; ended_at: Date | null },
  ending: ClaimEnding & { at: Date },
): Decision<ClaimEnd> {
  const { at } = ending;
  if (ending.to === 'rejected') {
    if (assignment.status !== 'submitted') return reject(notInStatus(assignment.status, 'submitted'));
    return accept({
      from: 'submitted',
      set: {
        status: 'rejected',
        ended_at: assignment.ended_at ?? at,
        settled_at: at,
        appealable_until: ending.appealableUntil,
      },
      frees: { kind: 'rejected', feesAwaitedUntil: ending.feesAwaitedUntil },
      announce: null,
    });
  }
  if (assignment.status !== 'active') return reject(notInStatus(assignment.status, 'active'));
  return accept({
    from: 'active',
    set: { status: ending.to, ended_at: at, settled_at: at },
    frees: { kind: 'freed' },
    announce: ending.to === 'expired' ? { type: 'expired', reason: ending.reason } : { type: 'released' },
  });
}

function notInStatus(status: AssignmentStatus, needed: 'active' | 'submitted'): Refusal {
  return refusal('conflict', `ASSIGNMENT_NOT_${needed.toUpperCase()}`, `The assignment is ${status}.`);
}
