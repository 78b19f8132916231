import { describe, expect, it } from 'vitest';
import { decideOverlap, defaultOverlapPolicy, type Verdict, verdictOptions } from './overlap.ts';
import type { Vote } from './posterior.ts';

const newJudge = (option: Verdict): Vote<Verdict> => ({ option, accuracy: 0.75 });
const cast = (...options: Verdict[]) => options.map(newJudge);
const binary: readonly Verdict[] = ['approve', 'reject'];

describe('verdictOptions', () => {
  it('are the three verdicts, so the verdict posterior has K = 3', () => {
    expect(verdictOptions).toEqual(['approve', 'reject', 'revision']);
  });
});

describe('decideOverlap, defaults', () => {
  it('waits for 3 judges, at most 5, and decides at a posterior of 0.9', () => {
    expect(defaultOverlapPolicy).toEqual({ judgesRequired: 3, maxOverlap: 5, threshold: 0.9 });
  });
});

describe('decideOverlap with three new judges (q = 0.75) and the verdict options (K = 3)', () => {
  const decide = (...options: Verdict[]) =>
    decideOverlap({ options: verdictOptions, votes: cast(...options) });

  it('waits while fewer than judgesRequired have voted, even when they agree', () => {
    expect(decide()).toEqual({ kind: 'wait', needed: 3 });
    expect(decide('approve', 'approve')).toEqual({ kind: 'wait', needed: 1 });
  });

  it('decides 3–0 (0.991)', () => {
    const decision = decide('approve', 'approve', 'approve');
    expect(decision).toMatchObject({ kind: 'decided', option: 'approve', countedVotes: 3 });
    expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(0.421875 / 0.42578125, 12);
  });

  it('asks one more judge on a 2–1 split (0.837)', () => {
    expect(decide('reject', 'approve', 'reject')).toEqual({ kind: 'more', needed: 1 });
  });

  it('decides 3–1 once a fourth judge agrees with the majority (0.969)', () => {
    const decision = decide('reject', 'approve', 'reject', 'reject');
    expect(decision).toMatchObject({ kind: 'decided', option: 'reject', countedVotes: 4 });
    expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(0.052734375 / 0.054443359375, 12);
  });

  it('asks a fifth judge on 2–2 and escalates a 3–2 at maxOverlap (0.854)', () => {
    expect(decide('approve', 'reject', 'approve', 'reject')).toEqual({ kind: 'more', needed: 1 });
    const decision = decide('approve', 'reject', 'approve', 'reject', 'approve');
    expect(decision).toMatchObject({ kind: 'escalate', best: 'approve' });
    expect(decision.kind === 'escalate' && decision.confidence).toBeCloseTo(0.8538, 4);
  });

  it('decides a revision like any other verdict', () => {
    expect(decide('revision', 'revision', 'revision')).toMatchObject({ kind: 'decided', option: 'revision' });
  });

  it('escalates a tie naming the first listed verdict as best', () => {
    const decision = decideOverlap({
      options: verdictOptions,
      votes: cast('reject', 'approve', 'revision', 'reject', 'approve'),
    });
    expect(decision).toMatchObject({ kind: 'escalate', best: 'approve' });
  });
});

describe('decideOverlap with K = 2', () => {
  const decide = (...options: Verdict[]) => decideOverlap({ options: binary, votes: cast(...options) });

  it('decides 3–0 (0.964), asks more on 2–1 (0.75), and decides 3–1 at exactly the threshold (0.9)', () => {
    expect(decide('approve', 'approve', 'approve')).toMatchObject({ kind: 'decided', option: 'approve' });
    expect(decide('approve', 'reject', 'approve')).toEqual({ kind: 'more', needed: 1 });
    // 0.10546875 / 0.1171875 is 0.9 exactly; in floating point it comes out one ulp below.
    const decision = decide('approve', 'reject', 'approve', 'approve');
    expect(decision).toMatchObject({ kind: 'decided', option: 'approve', countedVotes: 4 });
    expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(0.9, 12);
  });

  it('escalates 3–2 of new judges (0.75) at maxOverlap', () => {
    expect(decide('approve', 'reject', 'approve', 'reject', 'approve')).toMatchObject({
      kind: 'escalate',
      best: 'approve',
      confidence: expect.closeTo(0.75, 12),
    });
  });

  it('lets one strong judge (0.99) outvote two weak ones (0.6) at once: 0.99·0.16 / (0.99·0.16 + 0.01·0.36)', () => {
    const decision = decideOverlap({
      options: binary,
      votes: [
        { option: 'reject', accuracy: 0.99 },
        { option: 'approve', accuracy: 0.6 },
        { option: 'approve', accuracy: 0.6 },
      ],
    });
    expect(decision).toMatchObject({ kind: 'decided', option: 'reject', countedVotes: 3 });
    expect(decision.kind === 'decided' && decision.confidence).toBeCloseTo(0.1584 / (0.1584 + 0.0036), 12);
  });
});

describe('decideOverlap, policy', () => {
  it('honours judgesRequired, maxOverlap and threshold', () => {
    const votes = cast('approve');
    expect(decideOverlap({ options: binary, votes, judgesRequired: 1, threshold: 0.75 })).toMatchObject({
      kind: 'decided',
      option: 'approve',
      countedVotes: 1,
    });
    expect(decideOverlap({ options: binary, votes, judgesRequired: 1 })).toEqual({ kind: 'more', needed: 1 });
    expect(decideOverlap({ options: binary, votes, judgesRequired: 1, maxOverlap: 1 })).toMatchObject({
      kind: 'escalate',
      best: 'approve',
    });
  });

  it('never escalates before judgesRequired, even when maxOverlap is smaller', () => {
    const policy = { options: binary, judgesRequired: 4, maxOverlap: 2 };
    expect(decideOverlap({ ...policy, votes: cast('approve', 'reject', 'approve') })).toEqual({
      kind: 'wait',
      needed: 1,
    });
    expect(decideOverlap({ ...policy, votes: cast('approve', 'reject', 'approve', 'reject') })).toMatchObject(
      {
        kind: 'escalate',
      },
    );
  });

  it('escalates when more than maxOverlap votes came in and it is still uncertain', () => {
    expect(
      decideOverlap({
        options: binary,
        votes: cast('approve', 'reject', 'approve', 'reject', 'approve', 'reject'),
      }),
    ).toMatchObject({ kind: 'escalate' });
  });

  it.each([
    { judgesRequired: 0 },
    { judgesRequired: 1.5 },
    { maxOverlap: 0 },
    { threshold: 0 },
    { threshold: 1.1 },
    { threshold: Number.NaN },
  ])('refuses the policy %o', (policy) => {
    expect(() => decideOverlap({ options: binary, votes: [], ...policy })).toThrow(RangeError);
  });
});
