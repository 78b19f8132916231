import { describe, expect, it } from 'vitest';
import { claimPollDelays } from './handle.ts';

describe('waiting for a claim not announced yet', () => {
  it('looks again after 200 ms, then every 400 ms, and never past the wait', () => {
    const delays = claimPollDelays(3_000);
    expect(delays).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(3_000);
    // An id that never comes costs one read per pause plus the first: nine, not sixty.
    expect(delays.length + 1).toBe(9);
  });

  it('fits a short wait, and waits not at all when told not to', () => {
    expect(claimPollDelays(300)).toEqual([200, 100]);
    expect(claimPollDelays(0)).toEqual([]);
  });
});
