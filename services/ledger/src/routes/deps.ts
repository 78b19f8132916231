import { refuse } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { LedgerConfig } from '../config.ts';
import { type Rejection, refusalOf } from '../domain/errors.ts';
import type { Transfer, TransferRequest } from '../domain/transfers.ts';
import type { LedgerEngine } from '../engine/types.ts';
import type { ProjectedTransfers } from '../projections/projected.ts';
import { waitForTransfer } from '../projections/projector.ts';
import type { ProjectionTables } from '../projections/schema.ts';
import type { LedgerDB } from '../service.ts';

export interface RouteDeps {
  db: Kysely<LedgerDB>;
  engine: LedgerEngine;
  /** This process's projector commits; without it, read-after-write polls. */
  projected?: ProjectedTransfers;
  config: Pick<
    LedgerConfig,
    | 'LEDGER_CURRENCY'
    | 'LEDGER_READ_AFTER_WRITE_MS'
    | 'LEDGER_ADMIN_MAX_AMOUNT_MINOR'
    | 'LEDGER_PROMOTIONS_BUDGET_MINOR'
  >;
}

/**
 * What a client of these routes is told of a refusal: in its own words where the engine's speak of
 * transfer ids it never sent (the Idempotency-Key became one), else the engine's detail.
 */
const clientDetail: Partial<Record<Rejection['code'], string>> = {
  IDEMPOTENCY_CONFLICT:
    'This Idempotency-Key was already used for a different request; use a new key for a new request.',
  INSUFFICIENT_FUNDS: 'The account does not hold enough to cover this amount.',
};

/**
 * Records one transfer for an HTTP write and answers from the write side: the recorded transfer,
 * which a retry with the same key replays unchanged. Before answering it waits (bounded by
 * LEDGER_READ_AFTER_WRITE_MS) for the projections to include the transfer, so that the caller's
 * next read sees it; past the bound it answers anyway, as the write is durable.
 */
export async function recordTransfer(
  deps: RouteDeps,
  request: TransferRequest,
): Promise<{ transfer: Transfer; replayed: boolean }> {
  const outcome = await deps.engine.transfer([request]);
  if (!outcome.ok) throw refusalOf(outcome.rejection, clientDetail[outcome.rejection.code]);
  const transfer = outcome.transfers[0];
  if (!transfer) throw new Error(`the engine recorded no transfer for ${request.id}`);
  await waitForTransfer(deps.db as unknown as Kysely<ProjectionTables>, transfer.id, {
    timeoutMs: deps.config.LEDGER_READ_AFTER_WRITE_MS,
    ...(deps.projected ? { projected: deps.projected } : {}),
  });
  return { transfer, replayed: outcome.replayed };
}

/** HTTP writes move the platform's currency only; reads may ask for any. */
export function assertLedgerCurrency(deps: RouteDeps, currency: string): void {
  if (currency !== deps.config.LEDGER_CURRENCY) {
    throw refuse.unprocessable(
      'UNSUPPORTED_CURRENCY',
      `This ledger records ${deps.config.LEDGER_CURRENCY} over HTTP, not ${currency}.`,
    );
  }
}

/**
 * An admin top-up or adjustment moves at most LEDGER_ADMIN_MAX_AMOUNT_MINOR: one mistaken amount
 * (a few zeros too many) cannot overflow `world` or empty promotions. Larger sums are several operations.
 */
export function assertAdminAmount(deps: RouteDeps, amount: number): void {
  const max = deps.config.LEDGER_ADMIN_MAX_AMOUNT_MINOR;
  if (amount > max) {
    throw refuse.unprocessable(
      'AMOUNT_TOO_LARGE',
      `One admin operation moves at most ${max} minor units; split a larger amount.`,
      { max_amount: max },
    );
  }
}
