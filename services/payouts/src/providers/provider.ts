import type { MethodType } from '../db/schema.ts';

/** What a provider is asked to pay: the withdrawal id is the provider's idempotency key. */
export interface PayoutOrder {
  withdrawalId: string;
  amount: { amount: number; currency: string };
  method: { type: MethodType; details: Record<string, unknown> };
  /** What the provider called the payout when it accepted it (a batch id), once known. */
  externalId?: string | null;
}

/**
 * What `status` is asked with: the order, or, once the provider named the payout (`externalId`),
 * that name without the method's details (a user's erasure may have wiped them).
 */
export type PayoutLookup =
  | PayoutOrder
  | { withdrawalId: string; amount: PayoutOrder['amount']; externalId: string; method?: undefined };

/**
 * Where a payout stands at the provider. `pending`: accepted, not final yet (ask again later);
 * `retry`: the provider failed in a way that may pass (timeouts, 5xx, rate limits);
 * `failed`: it refused for good (a bad account, a blocked receiver); `unconfirmed`: the provider
 * holds a payout for this withdrawal but did not say which, so it can be neither read nor sent
 * again (a repeat past the provider's duplicate window could pay twice): an operator looks it up.
 */
export type PayoutStatus =
  | { kind: 'completed'; externalId: string }
  | { kind: 'pending'; externalId: string | null }
  | { kind: 'retry'; reason: string }
  | { kind: 'failed'; reasonCode: string; detail: string }
  | { kind: 'unconfirmed'; reason: string };

/**
 * One interface for every way money leaves: send an order (idempotent by withdrawal id: sending
 * the same order twice never pays twice), and ask where it stands. `manual` answers `pending`
 * until an admin records the outcome.
 */
export interface PayoutProvider {
  readonly name: string;
  /** Whether an admin records the outcome by hand (`PUT /withdrawals/:id/process`). */
  readonly manual: boolean;
  /**
   * How long after a payout was first sent a repeated send is still recognised by the provider as
   * the same payout (PayPal: its 30-day duplicate window, less a margin). Past it the sender never
   * sends a payout again that the provider did not name (withdrawals/decide.ts `resendAllowed`).
   * Undefined: always recognised.
   */
  readonly resendWindowMs?: number;
  send(order: PayoutOrder): Promise<PayoutStatus>;
  status(lookup: PayoutLookup): Promise<PayoutStatus>;
  /**
   * Checks a notification the provider pushed (a webhook) with the provider itself, and names the
   * payouts it is about. Absent: the provider pushes nothing, or it is not set up to.
   */
  checkNotification?(notification: ProviderNotification): Promise<NotificationCheck>;
}

/** A notification as received: its headers (lower-case names) and its body, parsed. */
export interface ProviderNotification {
  headers: Record<string, string | undefined>;
  event: Record<string, unknown>;
}

/**
 * `verified`: the provider vouched for it; it names these payouts (by withdrawal id, or by the
 * provider's own id), possibly none. `forged`: the provider did not send it. `retry`: the provider
 * could not be asked (the sender of the notification should try again later).
 */
export type NotificationCheck =
  | { kind: 'verified'; withdrawalIds: string[]; externalIds: string[] }
  | { kind: 'forged' }
  | { kind: 'retry'; reason: string };

/** The default: an admin pays outside the platform and records the outcome. */
export const manualProvider: PayoutProvider = {
  name: 'manual',
  manual: true,
  send: async () => ({ kind: 'pending', externalId: null }),
  status: async () => ({ kind: 'pending', externalId: null }),
};
