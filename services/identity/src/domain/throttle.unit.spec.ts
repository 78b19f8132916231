import { describe, expect, it } from 'vitest';
import { afterFailure, combine, type ThrottleState, throttleDecision } from './throttle.ts';

const policy = { maxFailures: 3, windowS: 900, baseLockS: 30, maxLockS: 300 };
const at = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000);

function fail(times: number, start = 0): ThrottleState | undefined {
  let state: ThrottleState | undefined;
  for (let i = 0; i < times; i++) state = afterFailure(state, at(start + i), policy);
  return state;
}

describe('login throttling', () => {
  it('allows a key without failures', () => {
    expect(throttleDecision(undefined, at(0))).toEqual({ allowed: true });
  });

  it('counts failures and locks at the limit, with Retry-After', () => {
    expect(throttleDecision(fail(2), at(2))).toEqual({ allowed: true });
    const locked = fail(3);
    expect(locked?.lockedUntil).toEqual(at(2 + 30));
    expect(throttleDecision(locked, at(12))).toEqual({ allowed: false, retryAfterS: 20 });
    expect(throttleDecision(locked, at(32))).toEqual({ allowed: true });
  });

  it('doubles the lock with every further failure, up to the cap', () => {
    expect(fail(4)?.lockedUntil).toEqual(at(3 + 60));
    expect(fail(5)?.lockedUntil).toEqual(at(4 + 120));
    expect(fail(10)?.lockedUntil).toEqual(at(9 + 300));
  });

  it('starts counting afresh once the window has passed', () => {
    const old = fail(2);
    const next = afterFailure(old, at(901), policy);
    expect(next).toEqual({ failures: 1, windowStartedAt: at(901), lockedUntil: null });
  });

  it('takes the longest wait of several keys', () => {
    expect(
      combine([{ allowed: true }, { allowed: false, retryAfterS: 5 }, { allowed: false, retryAfterS: 9 }]),
    ).toEqual({
      allowed: false,
      retryAfterS: 9,
    });
    expect(combine([{ allowed: true }])).toEqual({ allowed: true });
  });
});
