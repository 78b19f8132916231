import { describe, expect, it } from 'vitest';
import { afterAttempt, backoff, MAX_BACKOFF_MS } from './retry.ts';

const middle = () => 0.5; // no jitter
const now = new Date('2025-03-01T12:00:00.000Z');

describe('webhook retries', () => {
  it('doubles from the base after each failed attempt', () => {
    expect([1, 2, 3, 4, 8].map((attempt) => backoff(attempt, 30_000, middle))).toEqual([
      30_000, 60_000, 120_000, 240_000, 3_840_000,
    ]);
  });

  it('jitters by at most ±10 %', () => {
    expect(backoff(2, 1_000, () => 0)).toBe(1_800);
    expect(backoff(2, 1_000, () => 0.999_999)).toBe(2_200);
    for (let i = 0; i < 200; i++) {
      const wait = backoff(3, 1_000);
      expect(wait).toBeGreaterThanOrEqual(3_600);
      expect(wait).toBeLessThanOrEqual(4_400);
    }
  });

  it('never waits longer than the cap', () => {
    expect(backoff(40, 30_000, middle)).toBe(MAX_BACKOFF_MS);
  });

  it('delivers on success, retries a failure, and gives up after the last attempt of the round', () => {
    const base = { maxAttempts: 8, retryBaseMs: 50, now, random: middle };
    expect(afterAttempt({ ...base, succeeded: true, attemptInRound: 8 })).toEqual({ status: 'delivered' });
    expect(afterAttempt({ ...base, succeeded: false, attemptInRound: 2 })).toEqual({
      status: 'pending',
      nextAttemptAt: new Date(now.getTime() + 100),
    });
    expect(afterAttempt({ ...base, succeeded: false, attemptInRound: 7 }).status).toBe('pending');
    expect(afterAttempt({ ...base, succeeded: false, attemptInRound: 8 })).toEqual({ status: 'failed' });
  });
});
