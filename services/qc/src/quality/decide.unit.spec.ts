import { describe, expect, it } from 'vitest';
import { noRecord } from '../judges/repository.ts';
import { judgeStatsAsOf, type KeptRecord, recordAsOf, shownRecord, statsCutoff } from './decide.ts';

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
  // Counted before today: four real reviews and the first honeypot (right).
  const reviews = {
    submitted: 6,
    counted: 5,
    earnings: [{ amount: 50, currency: 'USD' }],
    honeypots: { correct: 1, answered: 1 },
  };

  it("shows the record at today's start when the judge was scored today: a honeypot answered wrong does not show at once", () => {
    const now = at('2030-05-10T15:00:00.000Z');
    expect(recordAsOf(kept('2030-05-10T00:00:00.000Z'), now)).toEqual(dayStart);
    const stats = judgeStatsAsOf(kept('2030-05-10T00:00:00.000Z'), reviews, false, now);
    expect(stats).toEqual({
      accuracy: 7 / 9,
      reviews_submitted: 6,
      reviews_counted: 5,
      // Honeypots included: over the real ones only, it would tell how many counted were honeypots.
      agreement: 4 / 5,
      removed: false,
      earnings: [{ amount: 50, currency: 'USD' }],
    });
  });

  it('shows the counters now when the latest score was on an earlier day (nothing scored since the cutoff)', () => {
    const now = at('2030-05-11T00:00:00.000Z');
    expect(recordAsOf(kept('2030-05-10T00:00:00.000Z'), now)).toEqual(current);
    // The second honeypot counted yesterday too.
    const both = { ...reviews, counted: 6, honeypots: { correct: 1, answered: 2 } };
    expect(judgeStatsAsOf(kept('2030-05-10T00:00:00.000Z'), both, false, now).accuracy).toBe(7 / 10);
  });

  it('shows the counters now for a record never scored through the day rule (and the prior for none)', () => {
    expect(recordAsOf(kept(null), at('2030-05-10T15:00:00.000Z'))).toEqual(current);
    const none = judgeStatsAsOf(
      { current: noRecord, recordDay: null, dayStart: noRecord },
      { submitted: 0, counted: 0, earnings: [], honeypots: { correct: 0, answered: 0 } },
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

describe('shownRecord (given the record as of the cutoff and the honeypots counted by then)', () => {
  // Real reviews: 3 right of 4. Honeypots scored: 2 (1 right), whatever was counted of them.
  const record = { correct: 4, answered: 6, honeypot_correct: 1, honeypot_answered: 2 };

  it('shows a honeypot when it is counted, not when it is scored', () => {
    // Both scored, none counted yet: the real reviews alone.
    expect(shownRecord(record, { correct: 0, answered: 0 })).toEqual({
      correct: 3,
      answered: 4,
      honeypot_correct: 0,
      honeypot_answered: 0,
    });
    // The wrong one counted: it shows, as a real review counted would.
    expect(shownRecord(record, { correct: 0, answered: 1 })).toEqual({
      correct: 3,
      answered: 5,
      honeypot_correct: 0,
      honeypot_answered: 1,
    });
    expect(shownRecord(record, { correct: 1, answered: 2 })).toEqual(record);
  });

  it('shows a honeypot counted though never scored (withdrawn while leased): it was counted and paid', () => {
    const unscored = { correct: 3, answered: 4, honeypot_correct: 0, honeypot_answered: 0 };
    expect(shownRecord(unscored, { correct: 1, answered: 1 })).toEqual({
      correct: 4,
      answered: 5,
      honeypot_correct: 1,
      honeypot_answered: 1,
    });
  });

  it('moves the accuracy a judge sees together with their counted reviews (the day a honeypot is counted)', () => {
    const cutoff = new Date('2030-05-11T00:00:00.000Z');
    const kept: KeptRecord = {
      current: record,
      recordDay: new Date('2030-05-10T00:00:00.000Z'),
      dayStart: noRecord,
    };
    const base = { submitted: 6, counted: 4, earnings: [{ amount: 40, currency: 'USD' }] };
    // Scored, not counted yet: neither the count, nor the earnings, nor the accuracy moved.
    const before = judgeStatsAsOf(kept, { ...base, honeypots: { correct: 0, answered: 0 } }, false, cutoff);
    expect(before).toMatchObject({ accuracy: 6 / 8, reviews_counted: 4, agreement: 3 / 4 });
    // Both counted: all of them moved.
    const after = judgeStatsAsOf(
      kept,
      {
        ...base,
        counted: 6,
        earnings: [{ amount: 60, currency: 'USD' }],
        honeypots: { correct: 1, answered: 2 },
      },
      false,
      cutoff,
    );
    expect(after).toMatchObject({ accuracy: 7 / 10, reviews_counted: 6, agreement: 4 / 6 });
  });
});
