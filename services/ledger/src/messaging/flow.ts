import type { Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { accountIds } from '../domain/accounts.ts';
import type { Rejection } from '../domain/errors.ts';
import type { Transfer, TransferRequest } from '../domain/transfers.ts';
import type { LedgerEngine } from '../engine/types.ts';
import type { LedgerDB } from '../service.ts';

/** What the event handlers need besides their transaction. */
export interface FlowDeps {
  engine: LedgerEngine;
  /**
   * The database outside the handler's transaction: for a decision that must stand even when the
   * handler's transaction rolls back after the engine moved money (see messaging/claims.ts).
   */
  db: Kysely<LedgerDB>;
  /** Platform fee on campaign funding, basis points. */
  feeBps: number;
  /** The currency a campaign is settled in when nothing recorded says otherwise. */
  currency: string;
  /** What promotions may pay per calendar month (UTC) and currency, minor units. */
  promotionsBudget: number;
  logger: Logger;
}

/**
 * Thrown when an event arrived before one it depends on (a withdrawal completed before its hold
 * was placed): the consumer retries it with backoff, and the earlier one gets handled meanwhile.
 */
export class NotYetError extends Error {
  override readonly name = 'NotYetError';
}

export type Moved = { ok: true; transfers: Transfer[] } | { ok: false; rejection: Rejection };

/**
 * Asks the engine for transfers whose ids derive from their cause. A retry of the same cause
 * replays the recorded result. When the ids were recorded with a different body (the cause was
 * re-sent with other figures, or the fee rate changed between a crash and the redelivery), what
 * was recorded stands: the money moved once, and that is what gets announced.
 */
export async function moveOnce(
  deps: FlowDeps,
  requests: TransferRequest[],
  recordedIds: string[] = requests.map((r) => r.id),
): Promise<Moved> {
  const outcome = await deps.engine.transfer(requests);
  if (outcome.ok) return { ok: true, transfers: outcome.transfers };
  if (outcome.rejection.code !== 'IDEMPOTENCY_CONFLICT') return outcome;
  const recorded = (await Promise.all(recordedIds.map((id) => deps.engine.getTransfer(id)))).filter(
    (t): t is Transfer => t !== undefined,
  );
  if (recorded.length === 0) return outcome;
  deps.logger.warn(
    { transfer_ids: recorded.map((t) => t.id), detail: outcome.rejection.detail },
    'cause re-sent with different figures; the recorded transfers stand',
  );
  return { ok: true, transfers: recorded };
}

/** What an account can still give (posted credits minus posted and pending debits), 0 if unopened. */
export async function availableOf(
  engine: LedgerEngine,
  accountId: string,
  currency: string,
): Promise<number> {
  const account = await engine.getAccount(accountId, currency);
  return account ? account.credits_posted - account.debits_posted - account.debits_pending : 0;
}

/** A rejection's code as an event's reason_code, its detail within the contract's bounds. */
export function reasonOf(rejection: Rejection): { reason_code: string; detail: string } {
  return { reason_code: rejection.code, detail: rejection.detail.slice(0, 500) };
}

/**
 * Pays a contributor or judge from a campaign's budget. Returns the outcome and what the budget
 * holds afterwards (as now recorded: on a replay, after any later movement too).
 */
export async function payFromCampaign(
  deps: FlowDeps,
  payment: {
    transferId: string;
    campaignId: string;
    userId: string;
    amount: { amount: number; currency: string };
    code: 'reward' | 'judge_fee';
    metadata: Record<string, string>;
  },
): Promise<{ moved: Moved; remaining: number }> {
  const budget = accountIds.campaignBudget(payment.campaignId);
  const moved = await moveOnce(deps, [
    {
      id: payment.transferId,
      debit_account: budget,
      credit_account: accountIds.userAvailable(payment.userId),
      amount: payment.amount.amount,
      currency: payment.amount.currency,
      code: payment.code,
      metadata: payment.metadata,
    },
  ]);
  return { moved, remaining: await availableOf(deps.engine, budget, payment.amount.currency) };
}
