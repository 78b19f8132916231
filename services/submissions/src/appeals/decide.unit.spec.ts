import { decider } from '@tessera/service-kit/testing';
import { describe, it } from 'vitest';
import { APPEAL_WINDOW_MS, type AppealState, decideAppeal } from './decide.ts';

const decidedAt = new Date('2026-12-01T12:00:00Z');
const rejected: AppealState = {
  status: 'rejected',
  decidedAt,
  appealed: false,
  now: new Date(decidedAt.getTime() + 1000),
};
const spec = decider((state: AppealState, _: null) => decideAppeal(state));

describe('appealing a rejection', () => {
  it('is open once, for 7 days after the rejection', () => {
    spec
      .given(rejected)
      .when(null)
      .then({ deadline: new Date(decidedAt.getTime() + APPEAL_WINDOW_MS) });
    spec
      .given({ ...rejected, now: new Date(decidedAt.getTime() + APPEAL_WINDOW_MS) })
      .when(null)
      .thenMatches(() => undefined);
    spec
      .given({ ...rejected, now: new Date(decidedAt.getTime() + APPEAL_WINDOW_MS + 1) })
      .when(null)
      .thenRefuses('APPEAL_WINDOW_CLOSED', 'conflict');
    spec
      .given({ ...rejected, appealed: true })
      .when(null)
      .thenRefuses('ALREADY_APPEALED', 'conflict');
  });

  it('is only for rejected work', () => {
    spec
      .given({ ...rejected, status: 'in_review', decidedAt: null })
      .when(null)
      .thenRefuses('NOT_REJECTED', 'conflict');
    spec
      .given({ ...rejected, status: 'approved' })
      .when(null)
      .thenRefuses('NOT_REJECTED', 'conflict');
  });
});
