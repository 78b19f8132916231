import { randomUUID } from 'node:crypto';
import { buildEvent, type EventMeta, type TesseraEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  type Cause,
  eventMeta,
  forgetFailures,
  idsNamedBy,
  isParked,
  lockName,
  lockNames,
  type Logger,
  orRefuse,
} from '@tessera/service-kit';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { PayoutsDB, WithdrawalsTable } from '../db/schema.ts';
import { findUsableMethod } from '../methods/index.ts';
import { standingOf, statusChanged } from '../users/repository.ts';
import {
  decideHoldChange,
  decideMove,
  decideNotFrozen,
  decideOnErasure,
  decidePaidByHand,
  decideReconcile,
  decideRequest,
  FINISHING_MOVES,
  type HoldChange,
  holdableStatuses,
  jobsDoneBy,
  MANUAL_PROVIDER,
  RECONCILE_JOB,
  RECONCILED_FAILED,
  type ReconcileOutcome,
  type RequestRules,
  type WithdrawalMove,
  withdrawalRefusals,
} from './decide.ts';

type Db = Kysely<PayoutsDB>;
export type WithdrawalRecord = Selectable<WithdrawalsTable>;

const FINAL_FAILURES = ['rejected', 'cancelled', 'failed'] as const;

const ref = (w: WithdrawalRecord) => ({
  withdrawal_id: w.id,
  user_id: w.user_id,
  amount: { amount: Number(w.amount), currency: w.currency },
});

/**
 * The lock of one user's withdrawals: taken by a request (its daily limit), by a change of the user's
 * status and by the ledger's hold (whether a withdrawal goes on hold), always before any row lock.
 */
export const userLock = (userId: string) => `withdrawals:${userId.toLowerCase()}`;

/**
 * A consumer's `lockFirst`: the user locks of every user a batch's events name, in key order, so two
 * batches (identity's and the ledger's) meeting two users in opposite orders never deadlock.
 */
export async function lockUsersOf(trx: Db, events: readonly { data: unknown }[]): Promise<void> {
  await lockNames(trx, idsNamedBy(events, ['user_id']).map(userLock));
}

export interface WithdrawalRequest {
  userId: string;
  amount: { amount: number; currency: string };
  methodId: string;
  now: Date;
}

/**
 * A user asks to withdraw: checked (decide.ts `decideRequest`, the method usable), recorded as
 * `requested` and announced in one transaction; the ledger then holds the amount or refuses.
 * Requests of one user queue on an advisory lock, so two racing requests cannot both pass the
 * daily limit.
 */
export async function requestWithdrawal(trx: Db, request: WithdrawalRequest, rules: RequestRules) {
  await lockName(trx, userLock(request.userId));
  const since = new Date(request.now.getTime() - 86_400_000);
  const today = await trx
    .selectFrom('withdrawals')
    .select(sql<number>`coalesce(sum(amount), 0)::bigint`.as('total'))
    .where('user_id', '=', request.userId)
    .where('requested_at', '>', since)
    .where('status', 'not in', FINAL_FAILURES)
    .executeTakeFirstOrThrow();
  orRefuse(
    decideRequest(
      request.amount,
      { standing: await standingOf(trx, request.userId), withdrawnToday: Number(today.total) },
      rules,
    ),
  );
  const method = orRefuse(
    await findUsableMethod(trx, { methodId: request.methodId, userId: request.userId, now: request.now }),
  );
  const withdrawal = await trx
    .insertInto('withdrawals')
    .values({
      id: randomUUID(),
      user_id: request.userId,
      method_id: method.id,
      method_type: method.type,
      amount: request.amount.amount,
      currency: request.amount.currency,
      status: 'requested',
      provider: null,
      external_transaction_id: null,
      reason_code: null,
      next_attempt_at: null,
      decided_by: null,
      requested_at: request.now,
      updated_at: request.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await appendToOutbox(trx, [
    buildEvent('payouts.withdrawal.requested.v1', ref(withdrawal), eventMeta(withdrawal.id, request.now)),
  ]);
  return withdrawal;
}

/** A withdrawal, locked: every move runs under this lock. */
export async function lockWithdrawal(trx: Db, id: string): Promise<WithdrawalRecord | undefined> {
  return trx.selectFrom('withdrawals').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

interface MoveContext {
  now: Date;
  cause?: Cause;
  /** Who decided (an admin), for approvals and rejections. */
  by?: string | null;
  reasonCode?: string | null;
  /** On `reject`: the admin's own words (the body's `reason`), kept for admins and never in an event. */
  rejectedNote?: string | null;
  provider?: string;
  externalId?: string | null;
  /** When the sender looks at it again: on `start-processing`, the end of its lease. */
  nextAttemptAt?: Date | null;
}

/**
 * Applies one move of the saga to a locked withdrawal and announces it: the event the ledger acts
 * on (completed posts the hold; failed, rejected and cancelled void it) or that records the step
 * (approved, processing). The ledger's own answers (hold placed or refused) are its events.
 */
export async function move(
  trx: Db,
  withdrawal: WithdrawalRecord,
  step: WithdrawalMove,
  context: MoveContext,
): Promise<WithdrawalRecord> {
  const userStatus = step.kind === 'approve' ? (await standingOf(trx, withdrawal.user_id)).status : undefined;
  const to = orRefuse(decideMove(withdrawal.status, step, userStatus ? { userStatus } : {}));
  const { now } = context;
  const moved = await trx
    .updateTable('withdrawals')
    .set({
      status: to,
      updated_at: now,
      ...(step.kind === 'hold-placed' ? { held_at: now } : {}),
      ...(step.kind === 'approve' ? { approved_at: now, decided_by: context.by ?? null } : {}),
      ...(step.kind === 'reject'
        ? { decided_by: context.by ?? null, rejected_note: context.rejectedNote ?? null }
        : {}),
      ...(step.kind === 'start-processing' ? { processing_at: now, provider: context.provider ?? null } : {}),
      ...(context.reasonCode !== undefined ? { reason_code: context.reasonCode } : {}),
      ...(context.externalId !== undefined ? { external_transaction_id: context.externalId } : {}),
      ...(context.nextAttemptAt !== undefined ? { next_attempt_at: context.nextAttemptAt } : {}),
      ...(FINISHING_MOVES.includes(step.kind) ? { finished_at: now, next_attempt_at: null } : {}),
    })
    .where('id', '=', withdrawal.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  for (const job of jobsDoneBy(step.kind)) await forgetFailures(trx, job, moved.id);
  const meta = eventMeta(moved.id, now, context.cause);
  const reason = context.reasonCode ?? 'UNSPECIFIED';
  const events: TesseraEvent[] = [];
  switch (step.kind) {
    case 'approve':
      events.push(buildEvent('payouts.withdrawal.approved.v1', { ...ref(moved), method: step.by }, meta));
      break;
    case 'start-processing':
      events.push(
        buildEvent(
          'payouts.withdrawal.processing.v1',
          { ...ref(moved), provider: moved.provider ?? 'manual' },
          meta,
        ),
      );
      break;
    case 'complete':
      events.push(
        buildEvent(
          'payouts.withdrawal.completed.v1',
          { ...ref(moved), provider: moved.provider ?? 'manual' },
          meta,
        ),
      );
      break;
    case 'fail':
      events.push(buildEvent('payouts.withdrawal.failed.v1', { ...ref(moved), reason_code: reason }, meta));
      break;
    case 'reject':
      events.push(buildEvent('payouts.withdrawal.rejected.v1', { ...ref(moved), reason_code: reason }, meta));
      break;
    case 'cancel':
      events.push(buildEvent('payouts.withdrawal.cancelled.v1', ref(moved), meta));
      break;
    case 'hold-placed':
    case 'hold-rejected':
      break;
  }
  if (events.length > 0) await appendToOutbox(trx, events);
  return moved;
}

/** Runs `step` on withdrawal `id` under its lock; `owner` limits it to that user's withdrawal. */
export async function moveById(
  trx: Db,
  id: string,
  step: WithdrawalMove,
  context: MoveContext & { owner?: string },
): Promise<WithdrawalRecord> {
  const withdrawal = await lockWithdrawal(trx, id);
  if (!withdrawal || (context.owner !== undefined && withdrawal.user_id !== context.owner))
    throw withdrawalRefusals.notFound();
  return move(trx, withdrawal, step, context);
}

/**
 * An admin records what they paid by hand (the manual provider): completed with the external
 * transaction id, or failed. An approved withdrawal the sender has not picked up yet starts
 * processing first, so the events tell the whole story. A withdrawal another provider pays (the
 * one it was sent through, or `provider`, the configured one, that will send it) is refused
 * (decide.ts `decidePaidByHand`): only that provider's answer settles it. A user who is not active
 * is frozen (`decideNotFrozen`): their payout is not recorded completed (failed still is).
 */
export async function recordProcessed(
  trx: Db,
  command: {
    id: string;
    adminId: string;
    status: 'completed' | 'failed';
    externalId: string | null;
    reasonCode: string | null;
    now: Date;
    /** The provider payouts sends through now (`PAYOUTS_PROVIDER`). */
    provider: string;
  },
): Promise<WithdrawalRecord> {
  let withdrawal = await lockWithdrawal(trx, command.id);
  if (!withdrawal) throw withdrawalRefusals.notFound();
  orRefuse(decidePaidByHand({ withdrawal: withdrawal.provider, configured: command.provider }));
  // Frozen: an approved one is not paid now. One already processing may have been paid by hand
  // before the suspension or erasure: recording it is the truth, and failing it would release the
  // hold on money already out.
  if (command.status === 'completed' && withdrawal.status === 'approved')
    orRefuse(decideNotFrozen((await standingOf(trx, withdrawal.user_id)).status));
  if (withdrawal.status === 'approved')
    withdrawal = await move(
      trx,
      withdrawal,
      { kind: 'start-processing' },
      { now: command.now, provider: MANUAL_PROVIDER },
    );
  return move(trx, withdrawal, command.status === 'completed' ? { kind: 'complete' } : { kind: 'fail' }, {
    now: command.now,
    externalId: command.externalId,
    reasonCode: command.status === 'failed' ? (command.reasonCode ?? 'PAYOUT_FAILED') : null,
  });
}

/**
 * An admin records what an operator found at the provider about a withdrawal the sender parked for
 * reconciliation (decide.ts `decideReconcile`): `completed` completes it (the ledger posts the hold),
 * `failed` fails it RECONCILED_FAILED (the ledger releases the hold), through `move`, so the events
 * are those of the provider's own answer. Under the row lock, with the parked item locked too (an
 * operator's retry racing this waits, then finds nothing to unpark); the parked item is cleared in
 * the same transaction. The same request again answers the same withdrawal and moves nothing.
 */
export async function reconcileWithdrawal(
  trx: Db,
  command: {
    id: string;
    adminId: string;
    outcome: ReconcileOutcome;
    providerReference: string;
    note: string | null;
    now: Date;
  },
): Promise<WithdrawalRecord> {
  const withdrawal = await lockWithdrawal(trx, command.id);
  if (!withdrawal) throw withdrawalRefusals.notFound();
  const parked = await isParked(trx, RECONCILE_JOB, withdrawal.id, { lock: true });
  const step = orRefuse(
    decideReconcile(
      {
        status: withdrawal.status,
        provider: withdrawal.provider,
        reconciledReference: withdrawal.reconciled_reference,
      },
      { parked },
      { outcome: command.outcome, providerReference: command.providerReference },
    ),
  );
  if (step.kind === 'unchanged') return withdrawal;
  await move(
    trx,
    withdrawal,
    { kind: step.kind },
    step.kind === 'complete'
      ? { now: command.now, externalId: command.providerReference }
      : { now: command.now, reasonCode: RECONCILED_FAILED },
  );
  return trx
    .updateTable('withdrawals')
    .set({
      reconciled_at: command.now,
      reconciled_by: command.adminId,
      reconciled_reference: command.providerReference,
      reconciled_note: command.note,
    })
    .where('id', '=', withdrawal.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

type LedgerAnswer = TesseraEvent<
  | 'ledger.withdrawal.hold-placed.v1'
  | 'ledger.withdrawal.hold-rejected.v1'
  | 'ledger.withdrawal.settled.v1'
  | 'ledger.withdrawal.hold-released.v1'
>;

/**
 * The ledger's answers: a hold moves a requested withdrawal to review; a refused hold rejects it
 * (INSUFFICIENT_FUNDS, nothing held). Settled and released confirm what payouts already decided.
 * An answer about a withdrawal we do not know, or that does not match it (user, amount, currency),
 * is logged and ignored.
 */
export async function ledgerAnswered(trx: Db, event: LedgerAnswer, context: { now: Date; log: Logger }) {
  // Before the row: a hold placed for a suspended user puts the withdrawal on hold, which a change
  // of the user's status must not cross (`userStatusChanged`). The answer acts only for this user.
  await lockName(trx, userLock(event.data.user_id));
  const withdrawal = await lockWithdrawal(trx, event.data.withdrawal_id.toLowerCase());
  const logged = { event_id: event.id, type: event.type, withdrawal_id: event.data.withdrawal_id };
  if (!withdrawal) {
    context.log.warn(logged, 'the ledger answered about a withdrawal payouts does not know; ignored');
    return;
  }
  if (
    withdrawal.user_id !== event.data.user_id.toLowerCase() ||
    Number(withdrawal.amount) !== event.data.amount.amount ||
    withdrawal.currency !== event.data.amount.currency
  ) {
    context.log.error(logged, "the ledger's answer does not match the withdrawal; ignored");
    return;
  }
  if (event.type === 'ledger.withdrawal.hold-placed.v1') {
    if (withdrawal.status !== 'requested') return;
    const held = await move(trx, withdrawal, { kind: 'hold-placed' }, { now: context.now, cause: event });
    const userStatus = (await standingOf(trx, held.user_id)).status;
    // Requested before its user's erasure: held after it, and ended as erasure ends the others.
    if (userStatus === 'erased') await endOnErasure(trx, held, { now: context.now, cause: event });
    // Requested before its user's suspension: waiting for approval now, it is on hold.
    const change = decideHoldChange(
      { status: withdrawal.status, userStatus },
      { status: held.status, userStatus },
    );
    if (change) await appendToOutbox(trx, [holdEvent(held, change, eventMeta(held.id, context.now, event))]);
    return;
  }
  if (event.type === 'ledger.withdrawal.hold-rejected.v1') {
    if (withdrawal.status === 'requested')
      await move(
        trx,
        withdrawal,
        { kind: 'hold-rejected' },
        { now: context.now, cause: event, reasonCode: event.data.reason_code },
      );
    return;
  }
  context.log.info({ ...logged, status: withdrawal.status }, 'the ledger confirmed a withdrawal step');
}

/** The event that tells a withdrawal's user it went on hold, or off it (decide.ts `decideHoldChange`). */
function holdEvent(w: WithdrawalRecord, change: HoldChange, meta: EventMeta): TesseraEvent {
  return buildEvent(
    change.kind === 'frozen' ? 'payouts.withdrawal.frozen.v1' : 'payouts.withdrawal.unfrozen.v1',
    { ...ref(w), reason_code: change.reasonCode },
    meta,
  );
}

/**
 * Identity suspended or reinstated a user: recorded (an older event than the one recorded changes
 * nothing, erasure is final), and each of their withdrawals this puts on hold or takes off it
 * (decide.ts `decideHoldChange`: waiting for approval or sending) is announced, `frozen` or
 * `unfrozen`, in the same transaction. Under the user's lock, taken before the rows': a request, or
 * the ledger's hold moving a withdrawal to review, runs wholly before or after it, so none goes on
 * hold unannounced. A status that does not change (a second suspension) announces nothing.
 */
export async function userStatusChanged(
  trx: Db,
  event: TesseraEvent<'identity.user.suspended.v1' | 'identity.user.reinstated.v1'>,
  context: { now: Date },
): Promise<void> {
  const userId = event.data.user_id;
  await lockName(trx, userLock(userId));
  const before = (await standingOf(trx, userId)).status;
  const after = event.type === 'identity.user.suspended.v1' ? 'suspended' : 'active';
  if (!(await statusChanged(trx, userId, after, event.time))) return;
  const open = await trx
    .selectFrom('withdrawals')
    .selectAll()
    .where('user_id', '=', userId.toLowerCase())
    .where('status', 'in', holdableStatuses)
    .orderBy('id')
    .forUpdate()
    .execute();
  const events: TesseraEvent[] = [];
  for (const withdrawal of open) {
    const change = decideHoldChange(
      { status: withdrawal.status, userStatus: before },
      { status: withdrawal.status, userStatus: after },
    );
    if (change) events.push(holdEvent(withdrawal, change, eventMeta(withdrawal.id, context.now, event)));
  }
  if (events.length > 0) await appendToOutbox(trx, events);
}

/**
 * A user's erasure, before their payout methods' details are wiped (methods/erasure.ts): each open
 * withdrawal that would need those details to be sent is ended under its row lock (decide.ts
 * `decideOnErasure`: cancelled, or failed ACCOUNT_ERASED), and the ledger releases its hold. The
 * sender commits `sent_at` only while a withdrawal is still `processing`, so it never hands one
 * ended here to the provider. Then an admin's note on any of their rejected withdrawals
 * (`rejected_note`, free text about the person) is cleared: a rejection racing this holds the row
 * lock the select above waits for, so its note is committed before the clearing reads; after it,
 * nothing of theirs is left to reject. Run again (the event delivered twice), it finds nothing left
 * to end or clear.
 */
export async function endWithdrawalsOnErasure(
  trx: Db,
  userId: string,
  context: { now: Date; cause?: Cause },
): Promise<void> {
  const open = await trx
    .selectFrom('withdrawals')
    .selectAll()
    .where('user_id', '=', userId)
    .where('status', 'in', ['pending_review', 'approved', 'processing'])
    .orderBy('id')
    .forUpdate()
    .execute();
  for (const withdrawal of open) await endOnErasure(trx, withdrawal, context);
  await trx
    .updateTable('withdrawals')
    .set({ rejected_note: null })
    .where('user_id', '=', userId)
    .where('rejected_note', 'is not', null)
    .execute();
}

async function endOnErasure(trx: Db, withdrawal: WithdrawalRecord, context: { now: Date; cause?: Cause }) {
  const ending = decideOnErasure({
    status: withdrawal.status,
    sentAt: withdrawal.sent_at,
    provider: withdrawal.provider,
  });
  if (!ending) return;
  await move(trx, withdrawal, ending.move, {
    ...context,
    ...(ending.reasonCode ? { reasonCode: ending.reasonCode } : {}),
  });
}
