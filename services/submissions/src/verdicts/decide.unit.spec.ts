import { decider } from '@tessera/service-kit/testing';
import { describe, it } from 'vitest';
import { decideVerdict, type Verdict, type VerdictState } from './decide.ts';

const now = new Date('2026-12-01T12:00:00Z');
const rules = { revisionWindowMs: 48 * 3600_000 };
const spec = decider((state: VerdictState, verdict: Verdict) => decideVerdict(state, verdict, rules));
const inReview: VerdictState = { status: 'in_review', revision: 1, openAppealId: null, now };
const verdict = (v: Partial<Verdict> = {}): Verdict => ({
  revision: 1,
  verdict: 'approve',
  method: 'consensus',
  reasonCodes: [],
  appealId: null,
  ...v,
});

describe('what a verdict does to a submission in review', () => {
  it('approves, rejects with the reasons, or asks for one revision with a deadline', () => {
    spec.given(inReview).when(verdict()).then({ kind: 'approve', overturn: false });
    spec
      .given(inReview)
      .when(verdict({ verdict: 'reject', reasonCodes: ['OFF_TOPIC'] }))
      .then({ kind: 'reject', stage: 'review', reasonCodes: ['OFF_TOPIC'] });
    spec
      .given(inReview)
      .when(verdict({ verdict: 'revision', reasonCodes: ['NOISY'] }))
      .then({
        kind: 'ask_revision',
        deadline: new Date(now.getTime() + rules.revisionWindowMs),
        reasonCodes: ['NOISY'],
      });
  });

  it('rejects for good when the revision itself needs another revision (a second failure is final)', () => {
    spec
      .given({ ...inReview, revision: 2 })
      .when(verdict({ revision: 2, verdict: 'revision', reasonCodes: ['NOISY'] }))
      .then({ kind: 'reject', stage: 'revision', reasonCodes: ['NOISY'] });
  });

  it('names a reason even when the judges gave none', () => {
    spec
      .given(inReview)
      .when(verdict({ verdict: 'reject' }))
      .then({ kind: 'reject', stage: 'review', reasonCodes: ['REJECTED_IN_REVIEW'] });
  });

  it('ignores a verdict on another revision than the one in review', () => {
    spec
      .given({ ...inReview, revision: 2 })
      .when(verdict({ revision: 1 }))
      .thenMatches((outcome) => {
        if (outcome.kind !== 'ignore') throw new Error(outcome.kind);
      });
  });
});

describe('verdicts on decided submissions', () => {
  const ignored = (outcome: { kind: string }) => {
    if (outcome.kind !== 'ignore') throw new Error(`decided ${outcome.kind}`);
  };

  it('never un-approves (the money has moved) and changes nothing on a repeat', () => {
    spec
      .given({ ...inReview, status: 'approved' })
      .when(verdict({ verdict: 'reject' }))
      .thenMatches(ignored);
    spec
      .given({ ...inReview, status: 'approved' })
      .when(verdict())
      .thenMatches(ignored);
    spec
      .given({ ...inReview, status: 'rejected' })
      .when(verdict({ verdict: 'reject' }))
      .thenMatches(ignored);
  });

  it('overturns a rejection on an appeal verdict that approves, and upholds it otherwise', () => {
    const appealed = { ...inReview, status: 'rejected' as const, openAppealId: 'ap1' };
    spec
      .given(appealed)
      .when(verdict({ method: 'appeal', appealId: 'ap1' }))
      .then({ kind: 'approve', overturn: true });
    spec
      .given(appealed)
      .when(verdict({ method: 'appeal', appealId: 'ap1', verdict: 'reject' }))
      .then({ kind: 'uphold_appeal', appealId: 'ap1' });
    spec
      .given(appealed)
      .when(verdict({ method: 'appeal', appealId: 'other' }))
      .thenMatches(ignored);
  });

  it('overturns a rejection QC re-judged to approve', () => {
    spec
      .given({ ...inReview, status: 'rejected' })
      .when(verdict())
      .then({ kind: 'approve', overturn: true });
  });

  it('ignores verdicts before pre-validation passed or while a revision is awaited', () => {
    spec
      .given({ ...inReview, status: 'received' })
      .when(verdict())
      .thenMatches(ignored);
    spec
      .given({ ...inReview, status: 'revision_requested' })
      .when(verdict())
      .thenMatches(ignored);
  });
});
