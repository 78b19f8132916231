import { describe, expect, it } from 'vitest';
import { claimPollDelays } from './handle.ts';

describe('waiting for a claim not announced yet', () => {
  it('looks again soon at first, then ever less often, and never past the wait', () => {
    const delays = claimPollDelays(3_000);
    expect(delays.slice(0, 5)).toEqual([25, 50, 100, 200, 400]);
    expect(Math.max(...delays)).toBe(400);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(3_000);
    // An id that never comes costs one read per pause plus the first: a dozen, not sixty.
    expect(delays.length + 1).toBeLessThanOrEqual(13);
  });

  it('fits a short wait, and waits not at all when told not to', () => {
    expect(claimPollDelays(300)).toEqual([25, 50, 100, 125]);
    expect(claimPollDelays(0)).toEqual([]);
  });
});
