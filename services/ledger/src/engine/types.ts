import type { AccountFlags, AccountKind } from '../domain/accounts.ts';
import type { Rejection } from '../domain/errors.ts';
import type { PendingResolution, Transfer, TransferRequest } from '../domain/transfers.ts';

/** An account's write-side state, folded from its stream. */
export interface AccountBalance {
  account_id: string;
  currency: string;
  kind: AccountKind;
  owner: string | null;
  flags: AccountFlags;
  debits_posted: number;
  credits_posted: number;
  debits_pending: number;
  credits_pending: number;
  /** The revision of the last event of the account's stream this state includes. */
  revision: number;
}

export type TransferOutcome =
  | {
      ok: true;
      transfers: Transfer[];
      /** true when every id was already recorded with the same request */ replayed: boolean;
    }
  | { ok: false; rejection: Rejection };

export type ResolutionOutcome =
  { ok: true; transfer: Transfer; replayed: boolean } | { ok: false; rejection: Rejection };

/** How the writer batched: appends made, commands they carried, the most in one. */
export interface BatchStats {
  batches: number;
  commands: number;
  largest: number;
  /** Batches sent while an earlier one was still in flight. */
  overlapped: number;
}

/**
 * The ledger's write side. Every command is decided against the current account states and
 * appended atomically with an expected revision on every account whose constraint it could break,
 * retried on a concurrent write. Refusals are values; exceptions mean the store failed
 * (passed through), the request was malformed (InvalidRequestError), the stored history is corrupt
 * (LedgerInvariantError) or the retries ran out (LedgerContentionError). Nothing is written then.
 */
export interface LedgerEngine {
  /** One transfer, or several linked ones that succeed or fail together. */
  transfer(requests: TransferRequest[]): Promise<TransferOutcome>;
  /** Posts or voids a pending transfer. Repeating the same resolution is a replayed success. */
  resolve(resolution: PendingResolution): Promise<ResolutionOutcome>;
  /** Expires a pending transfer whose expiry time has passed (refused otherwise). */
  expire(pendingId: string, now?: Date): Promise<ResolutionOutcome>;
  getTransfer(id: string): Promise<Transfer | undefined>;
  getAccount(accountId: string, currency: string): Promise<AccountBalance | undefined>;
  stats(): BatchStats;
}
