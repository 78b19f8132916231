import { type Balances, zeroBalances } from './account-state.ts';
import { accountStream, transferStream } from './accounts.ts';
import type { ResolutionDecision, StreamWrite } from './decision.ts';
import type { Rejection } from './errors.ts';
import type { StoredEvent } from './events.ts';
import type { TransferRecord } from './transfer-state.ts';
import type { PendingResolution } from './transfers.ts';

type Resolution = 'post' | 'void' | 'expire';

const outcome = { post: 'posted', void: 'voided', expire: 'expired' } as const;
const eventType = { post: 'pending-posted', void: 'pending-voided', expire: 'pending-expired' } as const;

export interface ResolutionContext {
  /** The pending transfer as recorded, or undefined when no transfer has this id. */
  transfer: TransferRecord | undefined;
  now: Date;
}

export function isPastExpiry(transfer: TransferRecord, now: Date): boolean {
  return transfer.expires_at !== null && Date.parse(transfer.expires_at) <= now.getTime();
}

/**
 * Posts or voids a pending transfer. Only one resolution of a transfer is ever recorded (the
 * writer appends at the revision it read). Asking again for the resolution that was recorded is a
 * replayed success; asking for another, or resolving a transfer past its expiry time (even if the
 * expiry is not recorded yet, as TigerBeetle's timeout), is PENDING_NOT_PENDING.
 */
export function decideResolution(
  resolution: PendingResolution,
  context: ResolutionContext,
): ResolutionDecision {
  return decide(resolution.pending_id, resolution.action, context);
}

/** Expires a pending transfer whose expiry time has passed; asking again is a replayed success. */
export function decideExpiry(pendingId: string, context: ResolutionContext): ResolutionDecision {
  return decide(pendingId, 'expire', context);
}

function decide(
  pendingId: string,
  action: Resolution,
  { transfer, now }: ResolutionContext,
): ResolutionDecision {
  const refuse = (code: Rejection['code'], detail: string): ResolutionDecision => ({
    kind: 'rejected',
    rejection: { code, detail, transfer_id: pendingId },
  });
  if (!transfer) return refuse('PENDING_NOT_FOUND', `no transfer ${pendingId}`);
  if (!transfer.pending)
    return refuse('PENDING_NOT_PENDING', `transfer ${pendingId} was not created pending`);
  if (transfer.state === outcome[action]) return { kind: 'replayed', transfer };
  if (transfer.state !== 'pending') {
    return refuse('PENDING_NOT_PENDING', `transfer ${pendingId} was already ${transfer.state}`);
  }
  const pastExpiry = isPastExpiry(transfer, now);
  if (action !== 'expire' && pastExpiry) {
    return refuse('PENDING_NOT_PENDING', `transfer ${pendingId} expired at ${transfer.expires_at}`);
  }
  if (action === 'expire' && !pastExpiry) {
    const when = transfer.expires_at === null ? 'never expires' : `expires at ${transfer.expires_at}`;
    return refuse('PENDING_NOT_EXPIRED', `transfer ${pendingId} ${when}`);
  }

  const at = now.toISOString();
  const { amount } = transfer;
  const writes: StreamWrite[] = [
    {
      stream: transferStream(transfer.id),
      expect: 'as_read',
      events: [{ type: eventType[action], data: { transfer_id: transfer.id, amount, at } }],
    },
  ];
  // Posting moves pending to posted and voiding or expiring releases it: neither can break a
  // balance constraint, so the accounts need only exist (they were opened with the transfer).
  if (amount > 0) {
    const posted = action === 'post' ? amount : 0;
    const sides: [string, Balances][] = [
      [transfer.debit_account, { ...zeroBalances, debits_pending: -amount, debits_posted: posted }],
      [transfer.credit_account, { ...zeroBalances, credits_pending: -amount, credits_posted: posted }],
    ];
    for (const [accountId, deltas] of sides) {
      const entry: StoredEvent = {
        type: 'account-entry',
        data: {
          account_id: accountId,
          currency: transfer.currency,
          transfer_id: transfer.id,
          cause: eventType[action],
          ...deltas,
          at,
        },
      };
      writes.push({ stream: accountStream(accountId, transfer.currency), expect: 'exists', events: [entry] });
    }
  }
  return {
    kind: 'decided',
    writes,
    transfer: { ...transfer, state: outcome[action], resolved_at: at },
  };
}
