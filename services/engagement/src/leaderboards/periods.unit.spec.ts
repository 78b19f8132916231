import { describe, expect, it } from 'vitest';
import { ALL_TIME_START, competitionRanks, periodStart } from './periods.ts';

describe('period starts (UTC)', () => {
  it('begin the week on Monday 00:00 UTC, whatever the weekday', () => {
    // 2026-03-02 is a Monday.
    expect(periodStart('weekly', new Date('2026-03-02T00:00:00Z'))).toBe('2026-03-02');
    expect(periodStart('weekly', new Date('2026-03-04T12:00:00Z'))).toBe('2026-03-02');
    expect(periodStart('weekly', new Date('2026-03-08T23:59:59.999Z'))).toBe('2026-03-02');
    expect(periodStart('weekly', new Date('2026-03-09T00:00:00Z'))).toBe('2026-03-09');
  });

  it('take ISO weeks across month and year ends', () => {
    expect(periodStart('weekly', new Date('2026-01-01T10:00:00Z'))).toBe('2025-12-29');
    expect(periodStart('weekly', new Date('2026-04-01T10:00:00Z'))).toBe('2026-03-30');
  });

  it('begin the month on the 1st 00:00 UTC, not in any local zone', () => {
    expect(periodStart('monthly', new Date('2026-02-28T23:59:59.999Z'))).toBe('2026-02-01');
    expect(periodStart('monthly', new Date('2026-03-01T00:00:00Z'))).toBe('2026-03-01');
    // 23:30 in New York on 31 March is already April in UTC.
    expect(periodStart('monthly', new Date('2026-04-01T03:30:00Z'))).toBe('2026-04-01');
  });

  it('have one all-time period', () => {
    expect(periodStart('all_time', new Date('2026-03-04T12:00:00Z'))).toBe(ALL_TIME_START);
  });
});

describe('competition ranks', () => {
  it('share a rank between equal values and skip the places they took', () => {
    expect(competitionRanks([50, 40, 40, 30, 30, 30, 10])).toEqual([1, 2, 2, 4, 4, 4, 7]);
    expect(competitionRanks([])).toEqual([]);
    expect(competitionRanks([5, 5], 12)).toEqual([12, 12]);
  });
});
