import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  decideAfterFault,
  decideScreening,
  MAX_SCREENING_ATTEMPTS,
  SCREENING_RETRY_DELAYS_MS,
  type ScreeningFacts,
} from './decide.ts';

const clean: ScreeningFacts = {
  checkReasons: [],
  exactDuplicate: false,
  nearDuplicateImage: false,
  duplicateText: false,
};
const spec = decider((facts: ScreeningFacts, _: null) => decideScreening(facts));

describe('the outcome of pre-validation', () => {
  it('passes only when nothing was found', () => {
    spec.given(clean).when(null).then({ pass: true });
  });

  it('rejects with every reason, the most basic first', () => {
    spec
      .given({ ...clean, exactDuplicate: true, nearDuplicateImage: true, checkReasons: ['IMAGE_BLURRY'] })
      .when(null)
      .then({ pass: false, reasons: ['IMAGE_BLURRY', 'IMAGE_NEAR_DUPLICATE', 'CONTENT_DUPLICATE'] });
    spec
      .given({ ...clean, duplicateText: true, checkReasons: ['TEXT_WRONG_LANGUAGE', 'TEXT_GIBBERISH'] })
      .when(null)
      .then({ pass: false, reasons: ['TEXT_GIBBERISH', 'TEXT_WRONG_LANGUAGE', 'TEXT_DUPLICATE'] });
  });
});

describe('after a fault of ours while screening', () => {
  const now = new Date('2026-12-06T12:00:00Z');

  it('waits longer after each failed attempt, then sends the work to review unscreened', () => {
    const waits = [];
    for (let attempts = 1; attempts < MAX_SCREENING_ATTEMPTS; attempts++) {
      const next = decideAfterFault(attempts, now, true);
      if (!next.retry) throw new Error(`attempt ${attempts} was not retried`);
      waits.push(next.at.getTime() - now.getTime());
    }
    expect(waits).toEqual([5_000, 30_000, 120_000, 600_000]);
    expect(waits).toEqual([...SCREENING_RETRY_DELAYS_MS]);
    expect(decideAfterFault(MAX_SCREENING_ATTEMPTS, now, true)).toEqual({ retry: false });
    expect(decideAfterFault(MAX_SCREENING_ATTEMPTS + 3, now, true)).toEqual({ retry: false });
  });

  it('keeps work whose task is unknown waiting the longest delay, since judges could not be given it', () => {
    const longest = new Date(now.getTime() + 600_000);
    expect(decideAfterFault(MAX_SCREENING_ATTEMPTS, now, false)).toEqual({ retry: true, at: longest });
    expect(decideAfterFault(MAX_SCREENING_ATTEMPTS + 3, now, false)).toEqual({ retry: true, at: longest });
    // Before the last attempt, whether the task is known changes nothing.
    expect(decideAfterFault(1, now, false)).toEqual(decideAfterFault(1, now, true));
  });
});
