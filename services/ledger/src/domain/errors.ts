/**
 * Why the ledger refused a command. Refusals are values, not exceptions: nothing was written, and
 * the caller decides (an HTTP 409, a `*-rejected` event).
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
