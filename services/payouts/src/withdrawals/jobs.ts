import { reasonCode as reasonCodeSchema } from '@tessera/contracts';
import { eachOnItsOwn, notParked } from '@tessera/service-kit';
import { sql } from 'kysely';
import type { PayoutsContext } from '../context.ts';
import { readMethodDetails } from '../methods/index.ts';
import type { PayoutOrder, PayoutStatus } from '../providers/provider.ts';
import { standingOf } from '../users/repository.ts';
import { autoApprovable, retryDelayMs } from './decide.ts';
import { lockWithdrawal, move, type WithdrawalRecord } from './handle.ts';

const BATCH = 20;

/** The jobs' worker names (`payoutsWorkers`). */
export const AUTO_APPROVE_JOB = 'auto-approve';
export const SENDER_JOB = 'payout-sender';

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
 * provider's idempotency key is the withdrawal id, so a call repeated after a crash or a timeout
 * never pays twice. Provider errors are retried with a doubling backoff; after
 * PAYOUTS_MAX_ATTEMPTS the withdrawal fails and the ledger releases the hold. Each withdrawal on its
 * own: one that throws does not hold up the others.
 */
export async function sendApproved(context: PayoutsContext): Promise<number> {
  const { db, clock, resources } = context;
  const provider = resources.provider;
  const now = clock();
  const due = await db
    .selectFrom('withdrawals')
    .select('id')
    .where((eb) =>
      eb.or([
        eb('status', '=', 'approved'),
        eb.and([eb('status', '=', 'processing'), eb('next_attempt_at', '<=', now)]),
      ]),
    )
    .where(notParked(SENDER_JOB, 'withdrawals.id'))
    .orderBy('updated_at')
    .limit(BATCH)
    .execute();
  const handled = await eachOnItsOwn(
    due,
    async ({ id }) => {
      const started = await db.transaction().execute(async (trx) => {
        const withdrawal = await lockWithdrawal(trx, id);
        if (!withdrawal) return undefined;
        if (withdrawal.status === 'approved') {
          const processing = await move(
            trx,
            withdrawal,
            { kind: 'start-processing' },
            { now, provider: provider.name },
          );
          if (provider.manual) return undefined;
          return processing;
        }
        if (withdrawal.status !== 'processing' || withdrawal.next_attempt_at === null) return undefined;
        if (withdrawal.next_attempt_at > now) return undefined;
        return withdrawal;
      });
      if (!started) return false;
      const answer = await answerOf(context, started);
      await db.transaction().execute((trx) => applyAnswer(context, trx, started.id, answer));
      return true;
    },
    {
      logger: context.logger,
      message: 'sending a withdrawal failed; the others go on',
      describe: ({ id }) => ({ withdrawal_id: id }),
      counted: { job: SENDER_JOB, metrics: context.metrics.jobs, park: { db, key: ({ id }) => id } },
    },
  );
  return handled.filter(Boolean).length;
}

/**
 * A provider's answer may carry, on a retry, the reason code the withdrawal fails with once the
 * attempts run out (`PROVIDER_UNAVAILABLE` unless said).
 */
type Answer = PayoutStatus | { kind: 'retry'; reason: string; failAs: string };

/**
 * Asks the provider where a withdrawal stands (or sends it). A payout method that cannot be read
 * (its key retired too soon, a damaged row) is retried like a provider error rather than thrown:
 * one unreadable method must not end the run and hold up the withdrawals behind it.
 */
async function answerOf(context: PayoutsContext, withdrawal: WithdrawalRecord): Promise<Answer> {
  const provider = context.resources.provider;
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
    return { kind: 'failed', reasonCode: 'METHOD_DELETED', detail: 'the payout method was deleted' };
  return (withdrawal.external_transaction_id ? provider.status(order) : provider.send(order)).catch(
    (error: unknown): PayoutStatus => ({ kind: 'retry', reason: (error as Error).message }),
  );
}

async function orderOf(
  context: PayoutsContext,
  withdrawal: WithdrawalRecord,
): Promise<PayoutOrder | undefined> {
  const method = await readMethodDetails(context.db, withdrawal.method_id, context.config.encryption);
  if (!method) return undefined;
  return {
    withdrawalId: withdrawal.id,
    amount: { amount: Number(withdrawal.amount), currency: withdrawal.currency },
    method,
    externalId: withdrawal.external_transaction_id,
  };
}

async function applyAnswer(
  context: PayoutsContext,
  trx: Parameters<typeof lockWithdrawal>[0],
  id: string,
  answer: Answer,
): Promise<void> {
  const { config, clock, logger } = context;
  const now = clock();
  const withdrawal = await lockWithdrawal(trx, id);
  if (!withdrawal || withdrawal.status !== 'processing') return;
  const attempts = withdrawal.attempts + 1;
  switch (answer.kind) {
    case 'completed':
      await move(trx, withdrawal, { kind: 'complete' }, { now, externalId: answer.externalId });
      return;
    case 'failed': {
      // A provider's words are not ours: a name our events cannot carry would make the move throw
      // and the withdrawal come back, and be sent again, at every run.
      const fit = reasonCodeSchema.safeParse(answer.reasonCode).success;
      if (!fit) {
        logger.warn(
          { withdrawal_id: id, provider_reason: answer.reasonCode.slice(0, 80) },
          'the provider refused the payout with a reason code our events cannot carry',
        );
      }
      const reasonCode = fit ? answer.reasonCode : 'PROVIDER_REFUSED';
      await move(trx, withdrawal, { kind: 'fail' }, { now, reasonCode });
      return;
    }
    case 'pending':
    case 'retry': {
      if (answer.kind === 'retry' && attempts >= config.PAYOUTS_MAX_ATTEMPTS) {
        logger.warn(
          { withdrawal_id: id, attempts, reason: answer.reason },
          'payout kept failing; the withdrawal fails',
        );
        const reasonCode = 'failAs' in answer ? answer.failAs : 'PROVIDER_UNAVAILABLE';
        await move(trx, withdrawal, { kind: 'fail' }, { now, reasonCode });
        return;
      }
      if (answer.kind === 'retry')
        logger.warn(
          { withdrawal_id: id, attempts, reason: answer.reason },
          'payout provider error; will retry',
        );
      await trx
        .updateTable('withdrawals')
        .set({
          attempts,
          next_attempt_at: new Date(now.getTime() + retryDelayMs(attempts, config.PAYOUTS_RETRY_BASE_MS)),
          ...(answer.kind === 'pending' && answer.externalId
            ? { external_transaction_id: answer.externalId }
            : {}),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      return;
    }
  }
}
