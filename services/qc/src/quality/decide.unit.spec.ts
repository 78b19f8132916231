import { describe, expect, it } from 'vitest';
import { noRecord } from '../judges/repository.ts';
import { judgeStatsAsOf, type KeptRecord, recordAsOf, statsCutoff } from './decide.ts';

const at = (iso: string) => new Date(iso);

describe('statsCutoff', () => {
  it('is the start (00:00 UTC) of the day now falls in', () => {
    expect(statsCutoff(at('2030-05-10T09:30:00.000Z'))).toEqual(at('2030-05-10T00:00:00.000Z'));
    expect(statsCutoff(at('2030-05-10T00:00:00.000Z'))).toEqual(at('2030-05-10T00:00:00.000Z'));
    expect(statsCutoff(at('2030-05-10T23:59:59.999Z'))).toEqual(at('2030-05-10T00:00:00.000Z'));
  });
});

describe("recordAsOf / judgeStatsAsOf (given the judge's kept record, when they read their stats)", () => {
  const dayStart = { correct: 4, answered: 5, honeypot_correct: 1, honeypot_answered: 1 };
  // Since the day's start: one honeypot answered wrong.
  const current = { correct: 4, answered: 6, honeypot_correct: 1, honeypot_answered: 2 };
  const kept = (recordDay: string | null): KeptRecord => ({
    current,
    recordDay: recordDay === null ? null : at(recordDay),
    dayStart,
  });
  const reviews = { submitted: 5, counted: 4, earnings: [{ amount: 40, currency: 'USD' }] };

  it("shows the record at today's start when the judge was scored today: a honeypot answered wrong does not show at once", () => {
    const now = at('2030-05-10T15:00:00.000Z');
    expect(recordAsOf(kept('2030-05-10T00:00:00.000Z'), now)).toEqual(dayStart);
    const stats = judgeStatsAsOf(kept('2030-05-10T00:00:00.000Z'), reviews, false, now);
    expect(stats).toEqual({
      accuracy: 7 / 9,
      reviews_submitted: 5,
      reviews_counted: 4,
      agreement: 3 / 4,
      removed: false,
      earnings: [{ amount: 40, currency: 'USD' }],
    });
  });

  it('shows the counters now when the latest score was on an earlier day (nothing scored since the cutoff)', () => {
    const now = at('2030-05-11T00:00:00.000Z');
    expect(recordAsOf(kept('2030-05-10T00:00:00.000Z'), now)).toEqual(current);
    expect(judgeStatsAsOf(kept('2030-05-10T00:00:00.000Z'), reviews, false, now).accuracy).toBe(7 / 10);
  });

  it('shows the counters now for a record never scored through the day rule (and the prior for none)', () => {
    expect(recordAsOf(kept(null), at('2030-05-10T15:00:00.000Z'))).toEqual(current);
    const none = judgeStatsAsOf(
      { current: noRecord, recordDay: null, dayStart: noRecord },
      { submitted: 0, counted: 0, earnings: [] },
      false,
      at('2030-05-10T15:00:00.000Z'),
    );
    expect(none).toEqual({
      accuracy: 0.75,
      reviews_submitted: 0,
      reviews_counted: 0,
      agreement: null,
      removed: false,
      earnings: [],
    });
  });

  it('shows a removal at once (the removal itself is immediate)', () => {
    const now = at('2030-05-10T15:00:00.000Z');
    expect(judgeStatsAsOf(kept('2030-05-10T00:00:00.000Z'), reviews, true, now).removed).toBe(true);
  });
});
