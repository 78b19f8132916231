import { reasonCode as reasonCodeSchema } from '@tessera/contracts';
import { eachOnItsOwn, notParked, parkItem } from '@tessera/service-kit';
import { sql } from 'kysely';
import type { PayoutsContext } from '../context.ts';
import { readMethodDetails } from '../methods/index.ts';
import type { PayoutOrder } from '../providers/provider.ts';
import { standingOf } from '../users/repository.ts';
import {
  autoApprovable,
  decideNotFrozen,
  decideSenderAnswer,
  AUTO_APPROVE_JOB,
  RECONCILE_JOB,
  SENDER_JOB,
  resendAllowed,
  type SenderAnswer,
  type SenderStep,
} from './decide.ts';
import { lockWithdrawal, move, type WithdrawalRecord } from './handle.ts';

const BATCH = 20;

/** The jobs' worker names, and where the sender parks a payout it cannot settle by itself (decide.ts). */
export { AUTO_APPROVE_JOB, RECONCILE_JOB, SENDER_JOB };

/**
 * Approves, by themselves, the withdrawals of trusted, active contributors that waited out the
 * cooling period (seed 000). A suspended user's withdrawals stay frozen. Each in its own
 * transaction, under the row lock, so an admin's decision racing it wins or loses cleanly.
 */
export async function autoApprove({ db, config, clock, logger, metrics }: PayoutsContext): Promise<number> {
  const now = clock();
  const coolingMs = config.PAYOUTS_AUTO_APPROVE_AFTER_HOURS * 3_600_000;
  const due = await db
    .selectFrom('withdrawals as w')
    .innerJoin('users as u', 'u.user_id', 'w.user_id')
    .select('w.id')
    .where('w.status', '=', 'pending_review')
    .where('w.requested_at', '<=', new Date(now.getTime() - coolingMs))
    .where('u.status', '=', 'active')
    .where(sql<boolean>`u.trust_score >= ${config.PAYOUTS_AUTO_APPROVE_TRUST}`)
    .where(notParked(AUTO_APPROVE_JOB, 'w.id'))
    .orderBy('w.requested_at')
    .limit(BATCH)
    .execute();
  const done = await eachOnItsOwn(
    due,
    ({ id }) =>
      db.transaction().execute(async (trx) => {
        const withdrawal = await lockWithdrawal(trx, id);
        if (!withdrawal) return false;
        const standing = await standingOf(trx, withdrawal.user_id);
        const rules = { minTrust: config.PAYOUTS_AUTO_APPROVE_TRUST, coolingMs, now };
        if (
          !autoApprovable(
            { status: withdrawal.status, requestedAt: withdrawal.requested_at },
            standing,
            rules,
          )
        )
          return false;
        await move(trx, withdrawal, { kind: 'approve', by: 'auto' }, { now });
        return true;
      }),
    {
      logger,
      message: 'approving a withdrawal failed; the others go on',
      describe: ({ id }) => ({ withdrawal_id: id }),
      counted: { job: AUTO_APPROVE_JOB, metrics: metrics.jobs, park: { db, key: ({ id }) => id } },
    },
  );
  return done.filter(Boolean).length;
}

/**
 * Hands approved withdrawals to the provider, and follows up those it has not finished. The move
 * to `processing` is committed before the provider is called (from then on the user cannot
 * cancel), and the provider's answer is applied in a second transaction under the row lock. The
 * first transaction leases the withdrawal (`next_attempt_at` = now + PAYOUTS_SEND_LEASE_MS): another
 * run, on this instance or another, leaves it alone meanwhile, and an answer lost in a crash is
 * asked for again once the lease is over. The provider's idempotency key is the withdrawal id, so a
 * call repeated after a crash or a timeout never pays twice. What the answer leads to is
 * `decideSenderAnswer`'s: errors are retried with a doubling backoff; after PAYOUTS_MAX_ATTEMPTS a
 * withdrawal the provider cannot have paid fails and the ledger releases the hold, while one it may
 * have paid keeps the hold and is parked for an operator to reconcile (`RECONCILE_JOB`). An approved
 * withdrawal of a user who is not active is frozen: left approved, and sent once they are active
 * again; one already processing follows the provider. Each withdrawal on its own: one that throws
 * does not hold up the others.
 */
export async function sendApproved(context: PayoutsContext): Promise<number> {
  const { db, clock, config, resources, logger, metrics } = context;
  const provider = resources.provider;
  const now = clock();
  const leasedUntil = new Date(now.getTime() + config.PAYOUTS_SEND_LEASE_MS);
  const due = await db
    .selectFrom('withdrawals as w')
    .leftJoin('users as u', 'u.user_id', 'w.user_id')
    .select('w.id')
    .where((eb) =>
      eb.or([
        // A user not active is frozen: their approved withdrawals wait (a user no event named yet is active).
        eb.and([
          eb('w.status', '=', 'approved'),
          eb.or([eb('u.status', 'is', null), eb('u.status', '=', 'active')]),
        ]),
        eb.and([eb('w.status', '=', 'processing'), eb('w.next_attempt_at', '<=', now)]),
      ]),
    )
    .where(notParked(SENDER_JOB, 'w.id'))
    .where(notParked(RECONCILE_JOB, 'w.id'))
    .orderBy('w.updated_at')
    .limit(BATCH)
    .execute();
  const handled = await eachOnItsOwn(
    due,
    async ({ id }) => {
      const started = await db.transaction().execute(async (trx) => {
        const withdrawal = await lockWithdrawal(trx, id);
        if (!withdrawal) return undefined;
        if (withdrawal.status === 'approved') {
          // Suspended since it was found: frozen, it stays approved (decide.ts `decideNotFrozen`).
          if (!decideNotFrozen((await standingOf(trx, withdrawal.user_id)).status).ok) return undefined;
          const processing = await move(
            trx,
            withdrawal,
            { kind: 'start-processing' },
            { now, provider: provider.name, nextAttemptAt: provider.manual ? null : leasedUntil },
          );
          if (provider.manual) return undefined;
          return processing;
        }
        if (withdrawal.status !== 'processing' || withdrawal.next_attempt_at === null) return undefined;
        if (withdrawal.next_attempt_at > now) return undefined;
        // Claimed: a run racing this one (another instance) finds it not due until the lease is over.
        return trx
          .updateTable('withdrawals')
          .set({ next_attempt_at: leasedUntil })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
      });
      if (!started) return false;
      const answer = await answerOf(context, started, now);
      const step = await db.transaction().execute((trx) => applyAnswer(context, trx, started.id, answer));
      if (step?.kind === 'reconcile') {
        metrics.jobs.itemParked(RECONCILE_JOB);
        logger.error(
          { withdrawal_id: id, job: RECONCILE_JOB, attempts: step.attempts, reason: step.reason },
          'the payout may have reached the provider but could not be confirmed: the hold is kept and the withdrawal parked; check it at the provider, then reconcile it (POST /api/v1/admin/withdrawals/:id/reconcile) or retry it',
        );
      }
      return true;
    },
    {
      logger,
      message: 'sending a withdrawal failed; the others go on',
      describe: ({ id }) => ({ withdrawal_id: id }),
      counted: { job: SENDER_JOB, metrics: metrics.jobs, park: { db, key: ({ id }) => id } },
    },
  );
  return handled.filter(Boolean).length;
}

/**
 * Asks the provider where a withdrawal stands (or sends it). A payout method that cannot be read
 * (its key retired too soon, a damaged row) is retried like a provider error rather than thrown:
 * one unreadable method must not end the run and hold up the withdrawals behind it. Before the
 * provider is first called, `sent_at` is committed: from then on the payout may be out.
 */
async function answerOf(
  context: PayoutsContext,
  withdrawal: WithdrawalRecord,
  now: Date,
): Promise<SenderAnswer> {
  const provider = context.resources.provider;
  const externalId = withdrawal.external_transaction_id;
  if (externalId)
    // The provider named the payout: asked by that name, without the method's details (which the
    // user's erasure may have wiped meanwhile).
    return provider
      .status({ withdrawalId: withdrawal.id, amount: amountOf(withdrawal), externalId })
      .catch((error: unknown): SenderAnswer => ({ kind: 'retry', reason: (error as Error).message }));
  // Sent before but never named: asking means sending again, which the provider recognises as the
  // same payout only within its window (decide.ts `resendAllowed`). Past it, an operator looks it up.
  if (!resendAllowed(withdrawal.sent_at, now, provider.resendWindowMs))
    return { kind: 'unconfirmed', reason: 'RESEND_WINDOW_PASSED' };
  let order: PayoutOrder | undefined;
  try {
    order = await orderOf(context, withdrawal);
  } catch (error) {
    context.logger.error(
      { withdrawal_id: withdrawal.id, method_id: withdrawal.method_id, error: (error as Error).name },
      'the payout method could not be read; will retry',
    );
    return { kind: 'retry', reason: 'the payout method could not be read', failAs: 'METHOD_UNREADABLE' };
  }
  if (!order)
    return { kind: 'unsendable', reasonCode: 'METHOD_DELETED', detail: 'the payout method was deleted' };
  if (withdrawal.sent_at === null) {
    // Only while it is still processing: one ended meanwhile (the user's erasure) is never sent.
    const marked = await context.db
      .updateTable('withdrawals')
      .set({ sent_at: sql<Date>`coalesce(sent_at, ${now})` })
      .where('id', '=', withdrawal.id)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    if (marked.numUpdatedRows === 0n)
      return { kind: 'retry', reason: 'the withdrawal is no longer processing' };
  }
  return provider
    .send(order)
    .catch((error: unknown): SenderAnswer => ({ kind: 'retry', reason: (error as Error).message }));
}

const amountOf = (withdrawal: WithdrawalRecord) => ({
  amount: Number(withdrawal.amount),
  currency: withdrawal.currency,
});

async function orderOf(
  context: PayoutsContext,
  withdrawal: WithdrawalRecord,
): Promise<PayoutOrder | undefined> {
  const method = await readMethodDetails(context.db, withdrawal.method_id, context.config.encryption);
  if (!method) return undefined;
  return {
    withdrawalId: withdrawal.id,
    amount: amountOf(withdrawal),
    method,
    externalId: withdrawal.external_transaction_id,
  };
}

/** Applies what `decideSenderAnswer` makes of the answer, under the row lock. */
async function applyAnswer(
  context: PayoutsContext,
  trx: Parameters<typeof lockWithdrawal>[0],
  id: string,
  answer: SenderAnswer,
): Promise<SenderStep | undefined> {
  const { config, clock, logger } = context;
  const now = clock();
  const withdrawal = await lockWithdrawal(trx, id);
  if (!withdrawal || withdrawal.status !== 'processing') return undefined;
  const step = decideSenderAnswer(
    answer,
    {
      attempts: withdrawal.attempts,
      reached: withdrawal.sent_at !== null || withdrawal.external_transaction_id !== null,
      processingAt: withdrawal.processing_at,
    },
    { maxAttempts: config.PAYOUTS_MAX_ATTEMPTS, retryBaseMs: config.PAYOUTS_RETRY_BASE_MS, now },
  );
  const reason = answer.kind === 'retry' ? answer.reason : undefined;
  switch (step.kind) {
    case 'complete':
      await move(trx, withdrawal, { kind: 'complete' }, { now, externalId: step.externalId });
      return step;
    case 'fail': {
      if (answer.kind === 'retry')
        logger.warn(
          { withdrawal_id: id, attempts: withdrawal.attempts + 1, reason },
          'payout kept failing before it could reach the provider; the withdrawal fails',
        );
      // A provider's words are not ours: a name our events cannot carry would make the move throw
      // and the withdrawal come back, and be sent again, at every run.
      const fit = reasonCodeSchema.safeParse(step.reasonCode).success;
      if (!fit) {
        logger.warn(
          { withdrawal_id: id, provider_reason: step.reasonCode.slice(0, 80) },
          'the provider refused the payout with a reason code our events cannot carry',
        );
      }
      const reasonCode = fit ? step.reasonCode : 'PROVIDER_REFUSED';
      await move(trx, withdrawal, { kind: 'fail' }, { now, reasonCode });
      return step;
    }
    case 'wait':
    case 'reconcile': {
      if (step.kind === 'wait' && reason !== undefined)
        logger.warn(
          { withdrawal_id: id, attempts: step.attempts, reason },
          'payout provider error; will retry',
        );
      await trx
        .updateTable('withdrawals')
        .set({
          attempts: step.attempts,
          next_attempt_at: step.nextAttemptAt,
          ...(step.kind === 'wait' && step.externalId ? { external_transaction_id: step.externalId } : {}),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      if (step.kind === 'reconcile') {
        // The sender leaves it out until an operator retries it or records what the provider says.
        const why = `the payout may have reached ${withdrawal.provider ?? 'the provider'} but was not confirmed after ${step.attempts} attempts (${step.reason.slice(0, 200)}); the hold is kept: check the payout at the provider, then record what it says (POST /api/v1/admin/withdrawals/${id}/reconcile) or retry`;
        await parkItem(trx, RECONCILE_JOB, id, why);
      }
      return step;
    }
  }
}
