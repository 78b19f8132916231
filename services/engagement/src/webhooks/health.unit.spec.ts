import { describe, expect, it } from 'vitest';
import { healthAfterFailure } from './health.ts';

const DAY = 86_400_000;
const now = new Date('2026-03-10T12:00:00.000Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * DAY);

describe('webhook health', () => {
  it('starts counting at the first failure', () => {
    expect(
      healthAfterFailure({ failingSince: null, givenUp: true, active: true, now, disableAfterMs: 3 * DAY }),
    ).toEqual({ failingSince: now, disable: false });
  });

  it('keeps the first failure as the start of the failing', () => {
    const since = daysAgo(1);
    expect(
      healthAfterFailure({ failingSince: since, givenUp: false, active: true, now, disableAfterMs: 3 * DAY })
        .failingSince,
    ).toBe(since);
  });

  it('switches off a webhook failing for the whole period once a delivery is given up', () => {
    const base = { failingSince: daysAgo(3), active: true, now, disableAfterMs: 3 * DAY };
    expect(healthAfterFailure({ ...base, givenUp: true }).disable).toBe(true);
    // An attempt with retries left does not: the delivery may still go through.
    expect(healthAfterFailure({ ...base, givenUp: false }).disable).toBe(false);
  });

  it('does not switch off a webhook failing for less than the period', () => {
    expect(
      healthAfterFailure({
        failingSince: new Date(daysAgo(3).getTime() + 1),
        givenUp: true,
        active: true,
        now,
        disableAfterMs: 3 * DAY,
      }).disable,
    ).toBe(false);
  });

  it('never switches off with the period at 0, nor a webhook already off', () => {
    const base = { failingSince: daysAgo(30), givenUp: true, now };
    expect(healthAfterFailure({ ...base, active: true, disableAfterMs: 0 }).disable).toBe(false);
    expect(healthAfterFailure({ ...base, active: false, disableAfterMs: 3 * DAY }).disable).toBe(false);
  });
});
