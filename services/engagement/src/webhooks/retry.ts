/**
 * When a failed delivery is tried again, and when it is given up. Pure: the random source is a
 * parameter so that tests can pin the jitter.
 */

/** The longest wait between two attempts, whatever the base and the count. */
export const MAX_BACKOFF_MS = 6 * 3_600_000;

/**
 * The wait after the `attempt`-th failed attempt (1-based): `baseMs × 2^(attempt−1)`, ±10 % jitter
 * so that receivers that fail together are not retried in lockstep, capped at MAX_BACKOFF_MS.
 */
export function backoff(attempt: number, baseMs = 30_000, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const plain = Math.min(baseMs * 2 ** exponent, MAX_BACKOFF_MS);
  const jitter = 1 + (random() * 2 - 1) * 0.1;
  return Math.round(plain * jitter);
}

export type DeliveryState =
  { status: 'delivered' } | { status: 'pending'; nextAttemptAt: Date } | { status: 'failed' };

/**
 * A delivery's state after an attempt: delivered on a 2xx; otherwise tried again after `backoff`,
 * until `maxAttempts` attempts of this round (the first queueing, or the latest redelivery) failed.
 */
export function afterAttempt(input: {
  succeeded: boolean;
  /** Attempts of this round, this one included. */
  attemptInRound: number;
  maxAttempts: number;
  retryBaseMs: number;
  now: Date;
  random?: () => number;
}): DeliveryState {
  if (input.succeeded) return { status: 'delivered' };
  if (input.attemptInRound >= input.maxAttempts) return { status: 'failed' };
  const wait = backoff(input.attemptInRound, input.retryBaseMs, input.random);
  return { status: 'pending', nextAttemptAt: new Date(input.now.getTime() + wait) };
}
