import { type AccountFlags, type AccountIdentity, type AccountKind, flagsFor } from './accounts.ts';
import { LedgerInvariantError } from './errors.ts';
import type { StoredEvent } from './events.ts';

export interface Balances {
  debits_posted: number;
  credits_posted: number;
  debits_pending: number;
  credits_pending: number;
}

/** One account's write-side state, folded from its stream (`account-<id>@<currency>`). */
export interface AccountState extends Balances {
  account_id: string;
  currency: string;
  kind: AccountKind;
  owner: string | null;
  flags: AccountFlags;
}

export const zeroBalances: Readonly<Balances> = Object.freeze({
  debits_posted: 0,
  credits_posted: 0,
  debits_pending: 0,
  credits_pending: 0,
});

const balanceFields = ['debits_posted', 'credits_posted', 'debits_pending', 'credits_pending'] as const;

/** The state an account has right after it is opened: zero balances, flags from its kind. */
export function newAccount(identity: AccountIdentity, currency: string): AccountState {
  return {
    account_id: identity.id,
    currency,
    kind: identity.kind,
    owner: identity.owner,
    flags: flagsFor(identity.kind),
    ...zeroBalances,
  };
}

export function addBalances(state: AccountState, deltas: Balances): AccountState {
  return {
    ...state,
    debits_posted: state.debits_posted + deltas.debits_posted,
    credits_posted: state.credits_posted + deltas.credits_posted,
    debits_pending: state.debits_pending + deltas.debits_pending,
    credits_pending: state.credits_pending + deltas.credits_pending,
  };
}

/**
 * Applies one event of an account's stream. Fails closed on a history the ledger could not have
 * written (an entry before the opening, a second opening, a balance leaving the safe non-negative
 * integers, an event of another stream kind): a balance is never computed from a corrupt stream.
 */
export function evolveAccount(state: AccountState | undefined, event: StoredEvent): AccountState {
  switch (event.type) {
    case 'account-opened': {
      if (state) throw new LedgerInvariantError(`account ${state.account_id}@${state.currency} opened twice`);
      const { account_id, currency, kind, owner, flags } = event.data;
      return { account_id, currency, kind, owner, flags: { ...flags }, ...zeroBalances };
    }
    case 'account-entry': {
      const entry = event.data;
      if (!state)
        throw new LedgerInvariantError(
          `entry of transfer ${entry.transfer_id} before its account was opened`,
        );
      if (entry.account_id !== state.account_id || entry.currency !== state.currency) {
        throw new LedgerInvariantError(
          `entry for ${entry.account_id}@${entry.currency} in the stream of ${state.account_id}@${state.currency}`,
        );
      }
      const next = addBalances(state, entry);
      for (const field of balanceFields) {
        if (!Number.isSafeInteger(next[field]) || next[field] < 0) {
          throw new LedgerInvariantError(
            `entry of transfer ${entry.transfer_id} leaves ${field} of ${state.account_id}@${state.currency} at ${next[field]}`,
          );
        }
      }
      return next;
    }
    default:
      throw new LedgerInvariantError(`event ${event.type} does not belong in an account stream`);
  }
}

export function foldAccount(events: Iterable<StoredEvent>, from?: AccountState): AccountState | undefined {
  let state = from;
  for (const event of events) state = evolveAccount(state, event);
  return state;
}

/** What the account can still give without breaking debits_must_not_exceed_credits. */
export function availableToDebit(state: Balances): number {
  return Math.max(0, state.credits_posted - state.debits_posted - state.debits_pending);
}
