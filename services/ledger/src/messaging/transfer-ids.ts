import { v5 as uuidv5 } from 'uuid';

/**
 * The namespace of every derived transfer id. Fixed forever: changing it would give every derived
 * transfer a new id, and a redelivered event would move its money a second time.
 */
export const TRANSFER_ID_NAMESPACE = '7ae65834-db06-40bd-a510-8ccee30bccb1';

/** Entity ids name accounts and transfers, so one spelling only (the chart wants lower case). */
export const canonicalId = (id: string) => id.toLowerCase();

const derive = (name: string) => uuidv5(name, TRANSFER_ID_NAMESPACE);

/**
 * Transfer ids derived from what caused them, so the same cause always names the same transfer
 * and the engine turns a repeat into a replay: per event for what each request does anew (a
 * campaign can be funded several times), per entity for what can happen once (one reward per
 * submission), per idempotency key for HTTP writes.
 */
export const transferIds = {
  funding: (eventId: string) => derive(`funding:${canonicalId(eventId)}`),
  fee: (eventId: string) => derive(`fee:${canonicalId(eventId)}`),
  campaignReturn: (campaignId: string) => derive(`campaign-return:${canonicalId(campaignId)}`),
  reward: (submissionId: string) => derive(`reward:${canonicalId(submissionId)}`),
  judgeFee: (reviewId: string) => derive(`judge-fee:${canonicalId(reviewId)}`),
  /** A honeypot review's fee: platform:quality → the campaign's budget, then the budget → the judge. */
  honeypotFunding: (reviewId: string) => derive(`honeypot-funding:${canonicalId(reviewId)}`),
  honeypotFee: (reviewId: string) => derive(`honeypot-fee:${canonicalId(reviewId)}`),
  withdrawal: (withdrawalId: string) => derive(`withdrawal:${canonicalId(withdrawalId)}`),
  bonus: (bonusId: string) => derive(`promotion:bonus:${canonicalId(bonusId)}`),
  referral: (referralId: string) => derive(`promotion:referral:${canonicalId(referralId)}`),
  /** The key is the client's Idempotency-Key, scoped to the company it tops up. */
  topup: (companyId: string, key: string) => derive(`topup:${canonicalId(companyId)}:${key}`),
  /** The key is the client's Idempotency-Key, scoped to the user adjusted. */
  adjustment: (userId: string, key: string) => derive(`adjustment:${canonicalId(userId)}:${key}`),
} as const;
