import { describe, expect, it } from 'vitest';
import { judgedRejection, moveTrust, shownTrust, TRUST_WEIGHTS, trustDelta } from './trust.ts';

describe('trust weights', () => {
  it('weigh each cause as documented, in hundredths, golden on top of the plain verdict', () => {
    expect(trustDelta({ kind: 'approval', golden: false })).toBe(5);
    expect(trustDelta({ kind: 'approval', golden: true })).toBe(15);
    expect(trustDelta({ kind: 'rejection', stage: 'review', golden: false })).toBe(-15);
    expect(trustDelta({ kind: 'rejection', stage: undefined, golden: false })).toBe(-15);
    expect(trustDelta({ kind: 'rejection', stage: 'revision', golden: true })).toBe(-45);
    expect(trustDelta({ kind: 'rejection', stage: 'pre_validation', golden: true })).toBe(-5);
    expect(trustDelta({ kind: 'fraud_flag' })).toBe(-50);
    expect(trustDelta({ kind: 'judge_removed' })).toBe(-100);
    expect(TRUST_WEIGHTS.judgeRemoved).toBe(-1);
  });

  it('counts every rejection but pre-validation as the judges’', () => {
    expect(judgedRejection('pre_validation')).toBe(false);
    expect(judgedRejection('review')).toBe(true);
    expect(judgedRejection('appeal')).toBe(true);
    expect(judgedRejection(undefined)).toBe(true);
  });
});

describe('moving trust', () => {
  it('keeps hundredths, so small steps add up, and publishes only when the shown decimal changes', () => {
    const first = moveTrust(500, 5);
    expect(first).toEqual({ exact: 505, shown: 5.1, publish: 5.1 });
    const second = moveTrust(first.exact, 5);
    expect(second).toEqual({ exact: 510, shown: 5.1, publish: undefined });
    expect(moveTrust(510, 5)).toEqual({ exact: 515, shown: 5.2, publish: 5.2 });
  });

  it('is clamped to 0–10', () => {
    expect(moveTrust(30, -100)).toEqual({ exact: 0, shown: 0, publish: 0 });
    expect(moveTrust(0, -50)).toEqual({ exact: 0, shown: 0, publish: undefined });
    expect(moveTrust(985, 25)).toEqual({ exact: 1000, shown: 10, publish: 10 });
  });

  it('shows one decimal, half up', () => {
    expect(shownTrust(500)).toBe(5);
    expect(shownTrust(504)).toBe(5);
    expect(shownTrust(505)).toBe(5.1);
    expect(shownTrust(485)).toBe(4.9);
  });
});
