import { accept, type Decision, refusal, reject } from '@tessera/service-kit';
import type { WithdrawalStatus } from '../db/schema.ts';
import type { PayoutStatus } from '../providers/provider.ts';
import type { UserStanding } from '../users/repository.ts';

/**
 * The withdrawal saga, as payouts sees it:
 *
 *   requested ──hold placed──▶ pending_review ──approve──▶ approved ──send──▶ processing ──▶ completed
 *       │                            │    │                   │                  └──────▶ failed
 *       └──hold rejected──▶ rejected ◀┘    └──cancel──▶ cancelled ◀──cancel──┘
 *
 * The ledger holds the amount on `requested`, posts the hold on `completed`, and voids it on
 * `failed`, `rejected` (by an admin) and `cancelled`. Each move checks where the withdrawal stands
 * under its row lock, so of two racing moves (a cancel and a completion) exactly one happens.
 */

export const withdrawalRefusals = {
  notFound: () => refusal('not_found', 'WITHDRAWAL_NOT_FOUND', 'No such withdrawal.'),
  belowMinimum: (minimum: number, currency: string) =>
    refusal('unprocessable', 'BELOW_MINIMUM', `The smallest withdrawal is ${format(minimum)} ${currency}.`, {
      minimum: { amount: minimum, currency },
    }),
  currency: (currency: string) =>
    refusal('unprocessable', 'CURRENCY_NOT_SUPPORTED', `Withdrawals are paid in ${currency}.`),
  dailyLimit: (limit: number, left: number, currency: string) =>
    refusal(
      'unprocessable',
      'DAILY_LIMIT_EXCEEDED',
      `You may withdraw ${format(limit)} ${currency} in 24 hours; ${format(left)} ${currency} is left.`,
      { remaining: { amount: left, currency } },
    ),
  accountNotActive: (status: string) =>
    refusal('forbidden', 'ACCOUNT_NOT_ACTIVE', `Your account is ${status}; withdrawals are frozen.`),
  emailNotVerified: () =>
    refusal('forbidden', 'EMAIL_NOT_VERIFIED', 'Verify your email address before withdrawing.'),
  notManual: (provider: string) =>
    refusal(
      'conflict',
      'WITHDRAWAL_NOT_MANUAL',
      `The withdrawal is paid through ${provider}; only a payout made by hand is recorded by hand.`,
      { provider },
    ),
  isManual: () =>
    refusal(
      'conflict',
      'WITHDRAWAL_IS_MANUAL',
      'The withdrawal is paid by hand (the manual provider); record it with PUT /api/v1/withdrawals/{id}/process.',
    ),
  notParked: () =>
    refusal(
      'conflict',
      'WITHDRAWAL_NOT_PARKED',
      'The sender is still following this payout with the provider; only a withdrawal parked for reconciliation (payout-reconcile) is reconciled by hand.',
    ),
  alreadyReconciled: (status: WithdrawalStatus, reference: string) =>
    refusal(
      'conflict',
      'WITHDRAWAL_ALREADY_RECONCILED',
      `The withdrawal was already reconciled as ${status} (provider reference ${reference}); it cannot be reconciled otherwise.`,
      { current_status: status, provider_reference: reference },
    ),
  notAllowed: (status: WithdrawalStatus, action: string) =>
    refusal(
      'conflict',
      'WITHDRAWAL_NOT_' + action.toUpperCase(),
      `The withdrawal is ${status}; it cannot be ${action} now.`,
      {
        current_status: status,
      },
    ),
};

const format = (minor: number) => (minor / 100).toFixed(2);

export interface RequestRules {
  minimum: number;
  dailyLimit: number;
  currency: string;
}

/**
 * Whether a user may ask to withdraw `amount`: an active account with a verified email, the
 * platform's currency, at least the minimum, and within the daily limit counting what they asked
 * for in the last 24 hours (except what was refused, cancelled or failed). Whether the wallet holds
 * it is the ledger's to say (the hold).
 */
export function decideRequest(
  request: { amount: number; currency: string },
  state: { standing: UserStanding; withdrawnToday: number },
  rules: RequestRules,
): Decision<void> {
  const { standing } = state;
  if (standing.status !== 'active') return reject(withdrawalRefusals.accountNotActive(standing.status));
  if (!standing.emailVerified) return reject(withdrawalRefusals.emailNotVerified());
  if (request.currency !== rules.currency) return reject(withdrawalRefusals.currency(rules.currency));
  if (request.amount < rules.minimum)
    return reject(withdrawalRefusals.belowMinimum(rules.minimum, rules.currency));
  const left = Math.max(0, rules.dailyLimit - state.withdrawnToday);
  if (request.amount > left)
    return reject(withdrawalRefusals.dailyLimit(rules.dailyLimit, left, rules.currency));
  return accept(undefined);
}

export type WithdrawalMove =
  | { kind: 'hold-placed' }
  | { kind: 'hold-rejected' }
  | { kind: 'approve'; by: 'admin' | 'auto' }
  | { kind: 'reject' }
  | { kind: 'cancel' }
  | { kind: 'start-processing' }
  | { kind: 'complete' }
  | { kind: 'fail' };

const moves: Record<
  WithdrawalMove['kind'],
  { from: readonly WithdrawalStatus[]; to: WithdrawalStatus; verb: string }
> = {
  'hold-placed': { from: ['requested'], to: 'pending_review', verb: 'held' },
  'hold-rejected': { from: ['requested'], to: 'rejected', verb: 'refused' },
  approve: { from: ['pending_review'], to: 'approved', verb: 'approved' },
  reject: { from: ['pending_review', 'approved'], to: 'rejected', verb: 'rejected' },
  cancel: { from: ['pending_review', 'approved'], to: 'cancelled', verb: 'cancelled' },
  'start-processing': { from: ['approved'], to: 'processing', verb: 'processed' },
  complete: { from: ['processing'], to: 'completed', verb: 'completed' },
  fail: { from: ['processing'], to: 'failed', verb: 'failed' },
};

/**
 * Where a move takes a withdrawal in `status`, or why not. A cancel of a `requested` withdrawal
 * waits for the ledger's answer (the hold may be on its way): the caller is told to try again.
 * A suspended user's withdrawal is frozen: never approved, by an admin or automatically.
 */
export function decideMove(
  status: WithdrawalStatus,
  move: WithdrawalMove,
  context: { userStatus?: UserStanding['status'] } = {},
): Decision<WithdrawalStatus> {
  const rule = moves[move.kind];
  if (!rule.from.includes(status)) return reject(withdrawalRefusals.notAllowed(status, rule.verb));
  if (move.kind === 'approve' && context.userStatus !== undefined) {
    const unfrozen = decideNotFrozen(context.userStatus);
    if (!unfrozen.ok) return unfrozen;
  }
  return accept(rule.to);
}

/**
 * A user who is not active (suspended, erased) has their withdrawals frozen: none is approved (by
 * an admin or automatically), handed to the provider by the sender (it stays `approved` until the
 * user is active again) or recorded paid by hand. Refused ACCOUNT_NOT_ACTIVE (forbidden). A payout
 * already out at a provider is not frozen: it follows the provider's answer.
 */
export function decideNotFrozen(userStatus: UserStanding['status']): Decision<void> {
  if (userStatus !== 'active') return reject(withdrawalRefusals.accountNotActive(userStatus));
  return accept(undefined);
}

/** Where a withdrawal can be on hold: waiting for approval, or approved and not sent yet. */
export const holdableStatuses: readonly WithdrawalStatus[] = ['pending_review', 'approved'];

/** Why a withdrawal waits on something other than the saga, as its read view says. */
export type HeldReason = 'ACCOUNT_SUSPENDED';

/**
 * Whether a withdrawal is on hold because its user is suspended (`decideNotFrozen`): one waiting for
 * approval is approved by no one, an approved one is not sent, until the user is reinstated. One
 * already processing follows the provider; an erased user's are ended (`decideOnErasure`).
 */
export function heldReason(status: WithdrawalStatus, userStatus: UserStanding['status']): HeldReason | null {
  if (userStatus === 'suspended' && holdableStatuses.includes(status)) return 'ACCOUNT_SUSPENDED';
  return null;
}

/** A withdrawal put on hold by its user's account, or taken off it: what its user is told. */
export interface HoldChange {
  kind: 'frozen' | 'unfrozen';
  /** The hold's reason (`heldReason`): the one it is now on hold for, or the one lifted. */
  reasonCode: HeldReason;
}

/** What decides whether a withdrawal is on hold: where it stands, and its user's status. */
export interface HoldState {
  status: WithdrawalStatus;
  userStatus: UserStanding['status'];
}

/**
 * Whether a change (its user's status, or its own step) puts a withdrawal on hold or lifts the hold
 * (`heldReason`), to be announced once per change: `frozen` when it was not on hold and now is (its
 * user suspended while it waits for approval or sending, or the ledger's hold placed while they are
 * suspended); `unfrozen` when the hold lifts while it stays where it was (its user reinstated).
 * A withdrawal that leaves the hold by ending (cancelled, rejected, failed) or through its user's
 * erasure (which ends it: `decideOnErasure`) is told by its own event: the hold does not lift, it
 * has nothing left to hold.
 */
export function decideHoldChange(before: HoldState, after: HoldState): HoldChange | undefined {
  const was = heldReason(before.status, before.userStatus);
  const is = heldReason(after.status, after.userStatus);
  if (was === is) return undefined;
  if (is !== null) return { kind: 'frozen', reasonCode: is };
  if (was === null || after.status !== before.status || after.userStatus === 'erased') return undefined;
  return { kind: 'unfrozen', reasonCode: was };
}

/**
 * What a user's erasure does to one of their withdrawals, before their payout methods' details are
 * wiped: one that needs those details to be sent is ended, and the ledger releases its hold.
 * `pending_review` and `approved` are cancelled; `processing` that the sender has not handed to the
 * provider (`sent_at` unset; not the manual provider, whose payouts an admin makes) fails
 * ACCOUNT_ERASED. Anything else is left alone: a payout that may be out follows the provider (asked
 * by the id it named, without the details), a manual one waits for the admin, a `requested` one is
 * cancelled once the ledger holds it (`ledgerAnswered`).
 */
export function decideOnErasure(withdrawal: {
  status: WithdrawalStatus;
  sentAt: Date | null;
  provider: string | null;
}): { move: WithdrawalMove; reasonCode?: string } | undefined {
  if (withdrawal.status === 'pending_review' || withdrawal.status === 'approved')
    return { move: { kind: 'cancel' } };
  if (
    withdrawal.status === 'processing' &&
    withdrawal.sentAt === null &&
    withdrawal.provider !== MANUAL_PROVIDER
  )
    return { move: { kind: 'fail' }, reasonCode: 'ACCOUNT_ERASED' };
  return undefined;
}

/** Auto-approval (seed 000): a trusted, active contributor's withdrawal after the cooling period. */
export function autoApprovable(
  withdrawal: { status: WithdrawalStatus; requestedAt: Date },
  standing: UserStanding,
  rules: { minTrust: number; coolingMs: number; now: Date },
): boolean {
  return (
    withdrawal.status === 'pending_review' &&
    standing.status === 'active' &&
    standing.trustScore >= rules.minTrust &&
    rules.now.getTime() - withdrawal.requestedAt.getTime() >= rules.coolingMs
  );
}

/** The wait before the `attempt`-th retry of a provider call: doubling from `baseMs`, capped at an hour. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** The provider that an admin pays through outside the platform (`PUT /withdrawals/:id/process`). */
export const MANUAL_PROVIDER = 'manual';

/**
 * Not a worker: where the sender parks a withdrawal whose payout may be out but which the provider
 * could not confirm (the kit's parked items: listed to admins, counted, retried by an operator, or
 * reconciled by hand: `decideReconcile`).
 */
export const RECONCILE_JOB = 'payout-reconcile';

/** The jobs' worker names (`payoutsWorkers`). */
export const AUTO_APPROVE_JOB = 'auto-approve';
export const SENDER_JOB = 'payout-sender';

/** The moves that finish a withdrawal (`finished_at`). */
export const FINISHING_MOVES: readonly WithdrawalMove['kind'][] = [
  'complete',
  'fail',
  'reject',
  'cancel',
  'hold-rejected',
];

/**
 * The jobs whose parked items are withdrawals (keyed by id), each with the move after which it has
 * nothing left to do for one: a withdrawal that finished, or one decided by hand before the
 * auto-approval that kept failing got to it. Its parked item goes with it (handle.ts `move`) rather
 * than stay listed to operators as if it still waited.
 */
export const jobsDoneBy = (step: WithdrawalMove['kind']): string[] =>
  FINISHING_MOVES.includes(step)
    ? [AUTO_APPROVE_JOB, SENDER_JOB, RECONCILE_JOB]
    : step === 'approve'
      ? [AUTO_APPROVE_JOB]
      : [];

/**
 * Whether an admin may record a payout made by hand: only one of the `manual` provider (the one it
 * was sent through, or, not sent yet, the one it will be). One that a provider such as PayPal pays
 * is settled by that provider's answer alone: recorded by hand too it could be paid twice.
 */
export function decidePaidByHand(provider: {
  withdrawal: string | null;
  configured: string;
}): Decision<void> {
  const paidBy = provider.withdrawal ?? provider.configured;
  if (paidBy !== MANUAL_PROVIDER) return reject(withdrawalRefusals.notManual(paidBy));
  return accept(undefined);
}

/** What an operator found at the provider: the payout made, or not (and never to be). */
export type ReconcileOutcome = 'completed' | 'failed';

/** The reason code a withdrawal reconciled as failed carries (in its `failed` event). */
export const RECONCILED_FAILED = 'RECONCILED_FAILED';

/**
 * Whether an admin may record the outcome an operator confirmed at the provider (its dashboard: the
 * transaction or batch id checked, `providerReference`) of a withdrawal the sender gave up on.
 *
 * - Only a withdrawal `processing` through a provider (not `manual`: that one is recorded with
 *   `PUT /withdrawals/:id/process`) and parked for reconciliation (`RECONCILE_JOB`). The sender parks
 *   only a payout that may have reached the provider and that it cannot settle by itself (its status
 *   unreadable after the attempts, nothing left to ask with, a duplicate the provider did not name,
 *   past the provider's window for a repeated send), and leaves a parked one alone: nothing races the
 *   admin. One the sender still follows is refused `WITHDRAWAL_NOT_PARKED` (wait for its answer, or
 *   for it to be parked); any other status `WITHDRAWAL_NOT_RECONCILED`.
 * - `completed` completes it (the ledger posts the hold), `failed` fails it `RECONCILED_FAILED` (the
 *   ledger releases the hold): the same moves and events as the provider's own answer.
 * - Idempotent: once reconciled, the same outcome with the same reference answers the same
 *   withdrawal and moves nothing (`unchanged`); another outcome or reference is refused
 *   `WITHDRAWAL_ALREADY_RECONCILED`.
 */
export function decideReconcile(
  withdrawal: {
    status: WithdrawalStatus;
    provider: string | null;
    /** The reference it was reconciled with, once it was. */
    reconciledReference: string | null;
  },
  state: { parked: boolean },
  command: { outcome: ReconcileOutcome; providerReference: string },
): Decision<{ kind: 'complete' | 'fail' | 'unchanged' }> {
  if (withdrawal.reconciledReference !== null) {
    if (withdrawal.status === command.outcome && withdrawal.reconciledReference === command.providerReference)
      return accept({ kind: 'unchanged' });
    return reject(withdrawalRefusals.alreadyReconciled(withdrawal.status, withdrawal.reconciledReference));
  }
  if (withdrawal.status !== 'processing')
    return reject(withdrawalRefusals.notAllowed(withdrawal.status, 'reconciled'));
  if (withdrawal.provider === null || withdrawal.provider === MANUAL_PROVIDER)
    return reject(withdrawalRefusals.isManual());
  if (!state.parked) return reject(withdrawalRefusals.notParked());
  return accept({ kind: command.outcome === 'completed' ? 'complete' : 'fail' });
}

/**
 * Whether the sender may send again a payout it sent before (`sentAt`) whose answer never named it
 * (no external id): only within the provider's window for a repeated send (`resendWindowMs`; PayPal
 * recognises a repeated batch for 30 days, its provider says 25). Past it a repeat could be taken for
 * a new payout and pay twice: the withdrawal is parked for reconciliation instead. A provider
 * without a window (undefined) may always be asked again.
 */
export function resendAllowed(sentAt: Date | null, now: Date, resendWindowMs: number | undefined): boolean {
  if (sentAt === null || resendWindowMs === undefined) return true;
  return now.getTime() - sentAt.getTime() <= resendWindowMs;
}

/**
 * The wait before asking again about a payout the provider holds as pending: as long as it has
 * been pending so far, at least `baseMs`, at most an hour (a doubling interval).
 */
export function pollDelayMs(pendingForMs: number, baseMs: number): number {
  return Math.min(3_600_000, Math.max(baseMs, pendingForMs));
}

/**
 * What the sender learnt about a withdrawal in `processing`: the provider's answer, or ours when the
 * provider could not be asked: `retry` with the reason it fails with once the attempts run out
 * (`failAs`, PROVIDER_UNAVAILABLE unless said), `unsendable` when there is nothing to pay to (the
 * payout method deleted).
 */
export type SenderAnswer =
  | PayoutStatus
  | { kind: 'retry'; reason: string; failAs?: string }
  | { kind: 'unsendable'; reasonCode: string; detail: string };

/** What the sender does with it: the saga's move, another attempt later, or a reconciliation. */
export type SenderStep =
  | { kind: 'complete'; externalId: string }
  | { kind: 'fail'; reasonCode: string }
  | { kind: 'wait'; attempts: number; nextAttemptAt: Date; externalId?: string }
  | { kind: 'reconcile'; attempts: number; nextAttemptAt: Date; reason: string };

/**
 * The sender's rule for an answer about a withdrawal in `processing`.
 *
 * - `attempts` counts the errors in a row (`retry`); a `pending` answer is the provider's word that
 *   it holds the payout, so it is no attempt and starts the count again. Pending payouts are asked
 *   again after as long as they have been processing (`pollDelayMs`), errors after a doubling
 *   backoff (`retryDelayMs`).
 * - Once the payout may have reached the provider (`reached`: the provider was called, or it named
 *   the payout), only the provider's own final status fails it: the ledger releases the hold on
 *   `failed`, and a provider that still pays would pay money the user has back. When the attempts
 *   run out then, or there is nothing left to ask with, the hold is kept and the withdrawal waits
 *   for an operator to reconcile it with the provider (`reconcile`).
 * - An `unconfirmed` answer (the provider holds a payout for it that it did not name, or a repeated
 *   send would fall outside the provider's window: `resendAllowed`) is reconciled at once: asking
 *   again would mean sending again, which could pay twice.
 * - Before that nothing can have been paid: the attempts running out fail it, as does a deleted
 *   payout method.
 */
export function decideSenderAnswer(
  answer: SenderAnswer,
  withdrawal: { attempts: number; reached: boolean; processingAt: Date | null },
  rules: { maxAttempts: number; retryBaseMs: number; now: Date },
): SenderStep {
  const { now } = rules;
  const later = (ms: number) => new Date(now.getTime() + ms);
  switch (answer.kind) {
    case 'completed':
      return { kind: 'complete', externalId: answer.externalId };
    case 'failed':
      return { kind: 'fail', reasonCode: answer.reasonCode };
    case 'pending': {
      const pendingFor = now.getTime() - (withdrawal.processingAt ?? now).getTime();
      return {
        kind: 'wait',
        attempts: 0,
        nextAttemptAt: later(pollDelayMs(pendingFor, rules.retryBaseMs)),
        ...(answer.externalId ? { externalId: answer.externalId } : {}),
      };
    }
    case 'unconfirmed':
      // The provider may hold a payout it did not name (or may no longer recognise a repeat of it):
      // neither failed nor sent again. An operator looks it up.
      return {
        kind: 'reconcile',
        attempts: withdrawal.attempts + 1,
        nextAttemptAt: later(retryDelayMs(withdrawal.attempts + 1, rules.retryBaseMs)),
        reason: answer.reason,
      };
    case 'unsendable': {
      if (!withdrawal.reached) return { kind: 'fail', reasonCode: answer.reasonCode };
      const attempts = withdrawal.attempts + 1;
      const nextAttemptAt = later(retryDelayMs(attempts, rules.retryBaseMs));
      return { kind: 'reconcile', attempts, nextAttemptAt, reason: answer.reasonCode };
    }
    case 'retry': {
      const attempts = withdrawal.attempts + 1;
      const nextAttemptAt = later(retryDelayMs(attempts, rules.retryBaseMs));
      if (attempts < rules.maxAttempts) return { kind: 'wait', attempts, nextAttemptAt };
      if (withdrawal.reached) return { kind: 'reconcile', attempts, nextAttemptAt, reason: answer.reason };
      return {
        kind: 'fail',
        reasonCode: 'failAs' in answer && answer.failAs ? answer.failAs : 'PROVIDER_UNAVAILABLE',
      };
    }
  }
}
