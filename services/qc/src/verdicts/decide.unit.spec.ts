import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../consensus/index.ts';
import { asAnswer, type CastVote, type CasePolicy, decideCase, verdictDetails } from './decide.ts';

let judges = 0;
/** A vote of a new judge (accuracy 0.75, the Beta(3, 1) prior's mean) unless told otherwise. */
const vote = (verdict: Verdict, values: Partial<CastVote> = {}): CastVote => ({
  judgeId: `judge-${++judges}`,
  verdict,
  accuracy: 0.75,
  qualityScore: 0.8,
  reasonCodes: verdict === 'approve' ? [] : ['UNCLEAR'],
  answer: null,
  ...values,
});
const votes = (...verdicts: Verdict[]) => verdicts.map((verdict) => vote(verdict));

/** The service's defaults: judges_required 3, max_judges 5, QC_CONFIDENCE_THRESHOLD 0.9. */
const policy: CasePolicy = { judgesRequired: 3, maxJudges: 5, threshold: 0.9 };

/** P(winner) of the one-coin model for equal judges of accuracy q: each vote is worth q(K−1)/(1−q). */
function posteriorOf(q: number, k: number, counts: number[]): number {
  const odds = (q * (k - 1)) / (1 - q);
  const weights = counts.map((count) => odds ** count);
  return weights[0]! / weights.reduce((sum, w) => sum + w, 0);
}

describe('decideCase (given the votes so far, when the case is weighed)', () => {
  const spec = decider(decideCase);

  it('waits for judges_required votes, even unanimous ones', () => {
    spec.given([]).when(policy).then({ kind: 'wait', needed: 3 });
    spec.given(votes('approve', 'approve')).when(policy).then({ kind: 'wait', needed: 1 });
  });

  describe('with K = 2 while nobody chose revision (three new judges)', () => {
    it('decides 3–0 at 0.964', () => {
      spec
        .given(votes('approve', 'approve', 'approve'))
        .when(policy)
        .thenMatches((decision) => {
          expect(decision).toMatchObject({ kind: 'decided', option: 'approve', countedVotes: 3 });
          expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(0.421875 / 0.4375, 12);
          expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(0.964, 3);
          expect(posteriorOf(0.75, 2, [3, 0])).toBeCloseTo(0.421875 / 0.4375, 12);
        });
      spec
        .given(votes('reject', 'reject', 'reject'))
        .when(policy)
        .thenMatches((decision) => expect(decision).toMatchObject({ kind: 'decided', option: 'reject' }));
    });

    it('asks one more judge on 2–1 (0.75 < 0.9)', () => {
      spec
        .given(votes('approve', 'reject', 'approve'))
        .when(policy)
        .then({ kind: 'more', needed: 1 });
    });

    it('decides 3–1 at exactly 0.9, the threshold', () => {
      spec
        .given(votes('reject', 'approve', 'reject', 'reject'))
        .when(policy)
        .thenMatches((decision) => {
          expect(decision).toMatchObject({ kind: 'decided', option: 'reject', countedVotes: 4 });
          expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(0.9, 12);
        });
    });

    it('asks a fifth judge on 2–2, and escalates a 3–2 at max_judges (0.75), naming the leader', () => {
      spec
        .given(votes('approve', 'reject', 'approve', 'reject'))
        .when(policy)
        .then({ kind: 'more', needed: 1 });
      spec
        .given(votes('approve', 'reject', 'approve', 'reject', 'approve'))
        .when(policy)
        .thenMatches((decision) => {
          expect(decision).toMatchObject({ kind: 'escalate', best: 'approve' });
          expect(decision.kind === 'escalate' && decision.confidence).toBeCloseTo(0.75, 12);
        });
    });

    it('escalates at max_judges set by the claim (here 4: a 2–2 split)', () => {
      spec
        .given(votes('approve', 'reject', 'approve', 'reject'))
        .when({ ...policy, maxJudges: 4 })
        .thenMatches((decision) => expect(decision).toMatchObject({ kind: 'escalate' }));
    });

    it('weighs votes by accuracy: one judge of 0.988 outweighs two of 0.625', () => {
      spec
        .given([
          vote('reject', { accuracy: 0.625 }),
          vote('reject', { accuracy: 0.625 }),
          vote('approve', { accuracy: 403 / 408 }),
        ])
        .when(policy)
        .thenMatches((decision) => {
          expect(decision).toMatchObject({ kind: 'decided', option: 'approve' });
          // odds of approve: (403/5) / (0.625/0.375)² ≈ 29.0.
          const odds = 403 / 5 / (0.625 / 0.375) ** 2;
          expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(odds / (1 + odds), 12);
        });
    });
  });

  describe('with K = 3 once a judge chose revision', () => {
    it('asks more on approve, approve, revision (0.837, where K = 2 would give 0.75)', () => {
      expect(posteriorOf(0.75, 3, [2, 1, 0])).toBeCloseTo(36 / 43, 12);
      spec
        .given(votes('approve', 'revision', 'approve'))
        .when(policy)
        .then({ kind: 'more', needed: 1 });
    });

    it('decides 3–1 against a revision at 0.969, not 0.9', () => {
      spec
        .given(votes('approve', 'revision', 'approve', 'approve'))
        .when(policy)
        .thenMatches((decision) => {
          expect(decision).toMatchObject({ kind: 'decided', option: 'approve', countedVotes: 4 });
          expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(216 / 223, 12);
          expect(posteriorOf(0.75, 3, [3, 1, 0])).toBeCloseTo(216 / 223, 12);
        });
    });

    it('decides a unanimous revision (0.991)', () => {
      spec
        .given(votes('revision', 'revision', 'revision'))
        .when(policy)
        .thenMatches((decision) => {
          expect(decision).toMatchObject({ kind: 'decided', option: 'revision' });
          expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(216 / 218, 12);
        });
    });

    it('escalates a three-way split at max_judges', () => {
      spec
        .given(votes('approve', 'reject', 'revision', 'approve', 'reject'))
        .when(policy)
        .thenMatches((decision) => expect(decision).toMatchObject({ kind: 'escalate', best: 'approve' }));
    });
  });

  it('decides as soon as the posterior reaches a lower threshold', () => {
    spec
      .given(votes('approve', 'reject', 'approve'))
      .when({ ...policy, threshold: 0.75 })
      .thenMatches((decision) => expect(decision).toMatchObject({ kind: 'decided', option: 'approve' }));
  });
});

describe('verdictDetails (given the votes, when a verdict is reached)', () => {
  it('is the mean quality score rounded to four decimals, leaving out judges who gave none', () => {
    expect(verdictDetails(votes('approve', 'approve', 'approve'), 'approve').qualityScore).toBe(0.8);
    const scored = (...scores: (number | null)[]) =>
      scores.map((qualityScore) => vote('approve', { qualityScore }));
    expect(verdictDetails(scored(0.5, 0.6, 0.6), 'approve').qualityScore).toBe(0.5667);
    expect(verdictDetails(scored(0.1, 0.2), 'approve').qualityScore).toBe(0.15);
    expect(verdictDetails(scored(null, 0.5, null), 'approve').qualityScore).toBe(0.5);
    expect(verdictDetails(scored(null, null), 'approve').qualityScore).toBeNull();
    expect(verdictDetails([], 'approve').qualityScore).toBeNull();
  });

  it('gives no reasons for an approval, whatever any judge named', () => {
    const cast = [
      vote('approve', { reasonCodes: ['NICE_WORK'] }),
      vote('reject', { reasonCodes: ['NOISY'] }),
      vote('approve'),
    ];
    expect(verdictDetails(cast, 'approve').reasonCodes).toEqual([]);
  });

  it('gives the reasons of the winning side only, most named first, ties by code, each once per judge', () => {
    const cast = [
      vote('reject', { reasonCodes: ['UNCLEAR', 'NOISY'] }),
      vote('reject', { reasonCodes: ['NOISY'] }),
      vote('reject', { reasonCodes: ['OFF_TOPIC', 'NOISY', 'OFF_TOPIC'] }),
      vote('revision', { reasonCodes: ['TOO_SHORT'] }),
      vote('approve', { reasonCodes: ['SPAM'] }),
    ];
    expect(verdictDetails(cast, 'reject').reasonCodes).toEqual(['NOISY', 'OFF_TOPIC', 'UNCLEAR']);
    expect(verdictDetails(cast, 'revision').reasonCodes).toEqual(['TOO_SHORT']);
  });

  it('gives none when nobody on the winning side named one (an admin overruling the judges)', () => {
    expect(verdictDetails(votes('approve', 'approve'), 'reject').reasonCodes).toEqual([]);
  });

  it('keeps at most 20 reasons (what the verdict event carries)', () => {
    const many = Array.from({ length: 25 }, (_, i) => `REASON_${String(i).padStart(2, '0')}`);
    const details = verdictDetails([vote('reject', { reasonCodes: many })], 'reject');
    expect(details.reasonCodes).toEqual(many.slice(0, 20));
  });

  it("aggregates the judges' answers weighted by accuracy, with the answer's confidence", () => {
    const unanimous = verdictDetails(
      [1, 2, 3].map(() => vote('approve', { answer: { option: 'yes' } })),
      'approve',
    );
    expect(unanimous.answer).toEqual({ option: 'yes' });
    expect(unanimous.answerConfidence).toBeCloseTo(0.421875 / 0.4375, 12);

    const weighted = verdictDetails(
      [
        vote('approve', { answer: { option: 'dog' }, accuracy: 0.6 }),
        vote('approve', { answer: { option: 'cat' }, accuracy: 0.9 }),
        vote('approve', { answer: { option: 'dog' }, accuracy: 0.6 }),
      ],
      'approve',
    );
    expect(weighted.answer).toEqual({ option: 'cat' });
    expect(weighted.answerConfidence).toBeCloseTo(0.8, 12);

    const labels = verdictDetails(
      [
        vote('approve', { answer: { labels: ['dog', 'cat'] } }),
        vote('reject', { answer: { labels: ['cat', 'dog'] } }),
        vote('approve', { answer: null }),
      ],
      'approve',
    );
    expect(labels.answer).toEqual({ labels: ['cat', 'dog'] });
  });

  it('has no answer when no judge gave one', () => {
    expect(verdictDetails(votes('approve', 'approve', 'approve'), 'approve')).toMatchObject({
      answer: null,
      answerConfidence: null,
    });
  });
});

describe('asAnswer', () => {
  it('reads an option, a preference or a label set', () => {
    expect(asAnswer({ option: 'yes' })).toEqual({ option: 'yes' });
    expect(asAnswer({ preferred: 'tie' })).toEqual({ preferred: 'tie' });
    expect(asAnswer({ labels: ['dog', 'cat'] })).toEqual({ labels: ['dog', 'cat'] });
  });

  it('keeps only the string labels, and only the compared field', () => {
    expect(asAnswer({ labels: ['cat', 3, null, 'dog'] })).toEqual({ labels: ['cat', 'dog'] });
    expect(asAnswer({ option: 'yes', note: 'sure' })).toEqual({ option: 'yes' });
  });

  it('is null for no answer and for shapes the aggregation does not compare', () => {
    expect(asAnswer(null)).toBeNull();
    expect(asAnswer({})).toBeNull();
    expect(asAnswer({ answer: 'heavy rain' })).toBeNull();
    expect(asAnswer({ preferred: 'c' })).toBeNull();
    expect(asAnswer({ option: 1 })).toBeNull();
    expect(asAnswer({ labels: 'cat' })).toBeNull();
  });
});
