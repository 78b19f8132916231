import { LedgerInvariantError } from './errors.ts';
import type { StoredEvent } from './events.ts';
import type { Transfer, TransferState } from './transfers.ts';

/** A transfer as folded from its stream, with what idempotency and resolution need. */
export interface TransferRecord extends Transfer {
  /** Created as a pending (two-phase) transfer; its state then says how it was resolved. */
  pending: boolean;
  balancing_debit: boolean;
  request_hash: string;
  /** When a pending transfer was posted, voided or expired; null while pending or when never pending. */
  resolved_at: string | null;
}

const resolvedState = {
  'pending-posted': 'posted',
  'pending-voided': 'voided',
  'pending-expired': 'expired',
} as const satisfies Record<string, TransferState>;

/**
 * Applies one event of a transfer's stream: `transfer-created`, then for a pending transfer at
 * most one resolution. Anything else is a history the ledger could not have written.
 */
export function evolveTransfer(state: TransferRecord | undefined, event: StoredEvent): TransferRecord {
  switch (event.type) {
    case 'transfer-created': {
      if (state) throw new LedgerInvariantError(`transfer ${state.id} created twice`);
      const data = event.data;
      return {
        id: data.id,
        debit_account: data.debit_account,
        credit_account: data.credit_account,
        amount: data.amount,
        requested_amount: data.requested_amount,
        currency: data.currency,
        code: data.code,
        metadata: { ...data.metadata },
        state: data.pending ? 'pending' : 'posted',
        created_at: data.at,
        expires_at: data.expires_at,
        linked_ids: [...data.linked_ids],
        pending: data.pending,
        balancing_debit: data.balancing_debit,
        request_hash: data.request_hash,
        resolved_at: null,
      };
    }
    case 'pending-posted':
    case 'pending-voided':
    case 'pending-expired': {
      const { transfer_id, amount, at } = event.data;
      if (!state || state.id !== transfer_id) {
        throw new LedgerInvariantError(
          `${event.type} of transfer ${transfer_id} in another transfer's stream`,
        );
      }
      if (!state.pending || state.state !== 'pending') {
        throw new LedgerInvariantError(`${event.type} of transfer ${transfer_id}, which is not pending`);
      }
      if (amount !== state.amount) {
        throw new LedgerInvariantError(
          `${event.type} of transfer ${transfer_id} for ${amount}, not ${state.amount}`,
        );
      }
      return { ...state, state: resolvedState[event.type], resolved_at: at };
    }
    default:
      throw new LedgerInvariantError(`event ${event.type} does not belong in a transfer stream`);
  }
}

export function foldTransfer(events: Iterable<StoredEvent>): TransferRecord | undefined {
  let state: TransferRecord | undefined;
  for (const event of events) state = evolveTransfer(state, event);
  return state;
}

/** The public view of a recorded transfer. */
export function toTransfer(record: TransferRecord): Transfer {
  return {
    id: record.id,
    debit_account: record.debit_account,
    credit_account: record.credit_account,
    amount: record.amount,
    requested_amount: record.requested_amount,
    currency: record.currency,
    code: record.code,
    metadata: { ...record.metadata },
    state: record.state,
    created_at: record.created_at,
    expires_at: record.expires_at,
    linked_ids: [...record.linked_ids],
  };
}
