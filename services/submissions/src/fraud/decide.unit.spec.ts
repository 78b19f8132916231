import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { decideFlags, dedupeKey, type FraudFacts } from './decide.ts';

const honest: FraudFacts = {
  taskType: 'text',
  firstHandIn: true,
  timeSpentSeconds: 240,
  lastHour: 3,
  approved: 9,
  rejected: 3,
  sharedWithAnother: false,
};
const spec = decider((facts: FraudFacts, _: null) => decideFlags(facts));
const signals = (expected: string[]) => (raised: { signal: string }[]) =>
  expect(raised.map((r) => r.signal)).toEqual(expected);

describe('fraud signals', () => {
  it('fire on nothing for honest work', () => {
    spec.given(honest).when(null).then([]);
  });

  it('fire for work faster than the floor of its task type', () => {
    spec
      .given({ ...honest, timeSpentSeconds: 19 })
      .when(null)
      .thenMatches(signals(['too_fast']));
    spec
      .given({ ...honest, taskType: 'validation', timeSpentSeconds: 19 })
      .when(null)
      .then([]);
  });

  it('fire for more than 10 hand-ins in an hour', () => {
    spec
      .given({ ...honest, lastHour: 10 })
      .when(null)
      .then([]);
    spec
      .given({ ...honest, lastHour: 11 })
      .when(null)
      .thenMatches(signals(['burst']));
  });

  it('fire for an approval rate under 50 % over more than 10 decided submissions', () => {
    spec
      .given({ ...honest, approved: 4, rejected: 6 })
      .when(null)
      .then([]); // only 10 decided
    spec
      .given({ ...honest, approved: 5, rejected: 6 })
      .when(null)
      .thenMatches(signals(['low_approval_rate']));
    spec
      .given({ ...honest, approved: 6, rejected: 6 })
      .when(null)
      .then([]); // exactly 50 %
  });

  it('fire for content another contributor handed in', () => {
    spec
      .given({ ...honest, sharedWithAnother: true })
      .when(null)
      .thenMatches(signals(['shared_content']));
  });

  it('fire on a revision for shared content only, not for how fast or often its contributor works', () => {
    const revision = { ...honest, firstHandIn: false, timeSpentSeconds: 1, lastHour: 50, approved: 0 };
    spec.given(revision).when(null).then([]);
    spec
      .given({ ...revision, sharedWithAnother: true })
      .when(null)
      .thenMatches(signals(['shared_content']));
  });

  it('count once per submission, or once per contributor and day', () => {
    const ids = { contributorId: 'c1', submissionId: 's1' };
    const day = new Date('2026-12-04T10:00:00Z');
    expect(dedupeKey('too_fast', ids, day)).toBe('too_fast:s1');
    expect(dedupeKey('burst', ids, day)).toBe(
      dedupeKey('burst', { ...ids, submissionId: 's2' }, new Date('2026-12-04T23:00:00Z')),
    );
    expect(dedupeKey('burst', ids, day)).not.toBe(dedupeKey('burst', ids, new Date('2026-12-05T00:00:00Z')));
  });
});
