import { describe, expect, it } from 'vitest';
import { freshTokens, retryDelay, shouldRetry } from './client.ts';
import { shape, verdictOf } from './harness.ts';

describe('what the chaos client sends again', () => {
  it('retries a dead connection, a restarting upstream and a rate limit; never a 500 or a refusal', () => {
    expect([undefined, 429, 502, 503, 504].map(shouldRetry)).toEqual([true, true, true, true, true]);
    expect([200, 201, 202, 400, 401, 404, 409, 422, 500].map(shouldRetry)).toEqual(
      Array.from({ length: 9 }, () => false),
    );
  });

  it('waits 200 ms, doubling, at most 3 s', () => {
    expect([1, 2, 3, 4, 5, 40].map(retryDelay)).toEqual([200, 400, 800, 1_600, 3_000, 3_000]);
  });
});

describe('the drive', () => {
  it('shapes n hand-ins as contributors × tasks with room for all of them', () => {
    for (const n of [1, 7, 60, 300, 10_000]) {
      const { contributors, tasks } = shape(n);
      expect(contributors * tasks).toBeGreaterThanOrEqual(n);
      expect(contributors * (tasks - 1)).toBeLessThan(n);
    }
    expect(shape(10_000)).toEqual({ contributors: 200, tasks: 50 });
  });

  it('has every judge give a submission the same verdict, rejecting about one in sixteen', () => {
    const ids = Array.from(
      { length: 4_000 },
      (_, i) => `0190a0b0-0000-7000-8000-${String(i).padStart(12, '0')}`,
    );
    expect(ids.map(verdictOf)).toEqual(ids.map(verdictOf));
    const rejected = ids.filter((id) => verdictOf(id) === 'reject').length / ids.length;
    expect(rejected).toBeGreaterThan(0.04);
    expect(rejected).toBeLessThan(0.09);
  });
});

describe('the actors’ tokens', () => {
  it('are used as they are until 10 minutes old, then renewed by one login shared by concurrent asks', async () => {
    let clock = 0;
    const logins: string[] = [];
    const tokenOf = freshTokens(
      async (email) => {
        logins.push(email);
        return { token: `${email}#${logins.length}` };
      },
      { now: () => clock },
    );
    const judge = { email: 'judge@example.com', token: 'first' };
    expect(await tokenOf(judge)).toBe('first');
    clock = 9 * 60_000;
    expect(await tokenOf(judge)).toBe('first');
    clock = 10 * 60_000;
    expect(await Promise.all([tokenOf(judge), tokenOf(judge)])).toEqual([
      'judge@example.com#1',
      'judge@example.com#1',
    ]);
    expect(logins).toEqual(['judge@example.com']);
    expect(judge.token).toBe('judge@example.com#1');
    clock = 19 * 60_000;
    expect(await tokenOf(judge)).toBe('judge@example.com#1');
    clock = 20 * 60_000;
    expect(await tokenOf(judge)).toBe('judge@example.com#2');
  });
});
