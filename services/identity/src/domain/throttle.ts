/**
 * Login throttling: failed attempts counted per account and per client address in a window;
 * past the limit, each further failure locks the key for twice as long as the last, up to a cap.
 * A success clears the account's count (not the address's: one address trying many accounts
 * is the attack that counter exists for).
 */
export interface ThrottlePolicy {
  maxFailures: number;
  windowS: number;
  /** The first lock lasts this long; every further failure doubles it. */
  baseLockS: number;
  maxLockS: number;
}

export interface ThrottleState {
  failures: number;
  windowStartedAt: Date;
  lockedUntil: Date | null;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterS: number };

export function throttleDecision(state: ThrottleState | undefined, now: Date): ThrottleDecision {
  if (!state?.lockedUntil) return { allowed: true };
  const wait = state.lockedUntil.getTime() - now.getTime();
  return wait > 0 ? { allowed: false, retryAfterS: Math.ceil(wait / 1000) } : { allowed: true };
}

export function afterFailure(
  state: ThrottleState | undefined,
  now: Date,
  policy: ThrottlePolicy,
): ThrottleState {
  const windowOpen = state && now.getTime() - state.windowStartedAt.getTime() < policy.windowS * 1000;
  const failures = windowOpen ? state.failures + 1 : 1;
  const windowStartedAt = windowOpen ? state.windowStartedAt : now;
  if (failures < policy.maxFailures) return { failures, windowStartedAt, lockedUntil: null };
  const lockS = Math.min(policy.maxLockS, policy.baseLockS * 2 ** (failures - policy.maxFailures));
  return { failures, windowStartedAt, lockedUntil: new Date(now.getTime() + lockS * 1000) };
}

/** The later of two decisions' waits: a request is let through only when every key allows it. */
export function combine(decisions: readonly ThrottleDecision[]): ThrottleDecision {
  const waits = decisions.flatMap((d) => (d.allowed ? [] : [d.retryAfterS]));
  return waits.length ? { allowed: false, retryAfterS: Math.max(...waits) } : { allowed: true };
}
