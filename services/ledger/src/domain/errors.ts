import { type Refusal, type RefusalKind, refusal } from '@tessera/service-kit';

/**
 * Why the ledger refused a command. Refusals are values, not exceptions: nothing was written, and
 * the caller decides (a refusal answered to a client, a `*-rejected` event).
 */
export const rejectionCodes = [
  'INVALID_ACCOUNT', // not an id of the chart
  'SAME_ACCOUNT', // debit and credit are the same account
  'INVALID_AMOUNT', // zero without balancing_debit
  'CURRENCY_MISMATCH', // linked transfers or an account disagree on currency
  'INSUFFICIENT_FUNDS', // a debits_must_not_exceed_credits account would be overdrawn
  'EXCEEDS_DEBITS', // a credits_must_not_exceed_debits account would be over-credited
  'OVERFLOW', // a balance would leave the safe-integer range
  'IDEMPOTENCY_CONFLICT', // this id was used for a different request
  'PENDING_NOT_FOUND',
  'PENDING_NOT_PENDING', // already posted, voided or expired (the detail says which)
  'LINKED_FAILED', // another transfer of the same linked chain failed
  'PENDING_NOT_EXPIRED', // expire was asked before the pending transfer's expiry time
] as const;
export type RejectionCode = (typeof rejectionCodes)[number];

export interface Rejection {
  code: RejectionCode;
  detail: string;
  /** The transfer (or pending transfer) the refusal is about. */
  transfer_id: string;
  /**
   * For a linked chain of more than one transfer: every transfer of the chain in request order,
   * the one that failed with `code` and every other with `LINKED_FAILED`. Nothing of it was recorded.
   */
  linked?: { transfer_id: string; code: RejectionCode }[];
}

/**
 * What kind of refusal each rejection is: a conflict with the accounts' or the id's current state
 * (another request, or the same one once funds arrive, may succeed), or a request that cannot be
 * met as asked.
 */
export const rejectionKinds: Record<RejectionCode, RefusalKind> = {
  INVALID_ACCOUNT: 'unprocessable',
  SAME_ACCOUNT: 'unprocessable',
  INVALID_AMOUNT: 'unprocessable',
  CURRENCY_MISMATCH: 'unprocessable',
  INSUFFICIENT_FUNDS: 'conflict',
  EXCEEDS_DEBITS: 'unprocessable',
  OVERFLOW: 'unprocessable',
  IDEMPOTENCY_CONFLICT: 'conflict',
  PENDING_NOT_FOUND: 'unprocessable',
  PENDING_NOT_PENDING: 'unprocessable',
  LINKED_FAILED: 'unprocessable',
  PENDING_NOT_EXPIRED: 'unprocessable',
};

/** A rejection as the kit's refusal: its code and kind, and its detail unless another is given. */
export function refusalOf(rejection: Rejection, detail: string = rejection.detail): Refusal {
  return refusal(rejectionKinds[rejection.code], rejection.code, detail);
}

/**
 * A command the ledger cannot even consider: not a valid request (bad id, currency, code, extra
 * fields), no transfer at all, or one id twice in one command. A caller bug, so an exception.
 */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}

/** The stored history breaks a rule the ledger never breaks: corruption, not a refusal. Fail closed. */
export class LedgerInvariantError extends Error {
  override readonly name = 'LedgerInvariantError';
}

/** A command kept losing optimistic-concurrency races past the retry budget. Nothing was written. */
export class LedgerContentionError extends Error {
  override readonly name = 'LedgerContentionError';
}
