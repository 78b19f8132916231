import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  accuracyOf,
  decideJudge,
  defaultStanding,
  honeypotsSinceRestored,
  type JudgeStanding,
  type JudgingRules,
  shouldPrune,
} from './decide.ts';

/** The service's defaults: QC_JUDGE_MIN_LEVEL 3, QC_JUDGE_MIN_TRUST 7. */
const rules: JudgingRules = { minLevel: 3, minTrust: 7 };

type Caller = { role: string; isCompanyKey: boolean };
const contributor: Caller = { role: 'contributor', isCompanyKey: false };
const admin: Caller = { role: 'admin', isCompanyKey: false };

const standing = (values: Partial<JudgeStanding> = {}): JudgeStanding => ({
  ...defaultStanding,
  role: 'contributor',
  level: 5,
  trust_score: 8,
  ...values,
});

describe('decideJudge (given what QC knows of the caller, when they ask for a review)', () => {
  const spec = decider((known: JudgeStanding, caller: Caller) => decideJudge(caller, known, rules));

  it('lets a contributor at or above the level and trust the rules ask judge', () => {
    spec.given(standing()).when(contributor).then(undefined);
  });

  it('lets an admin judge whatever QC knows of them (even nothing: the defaults)', () => {
    spec.given(defaultStanding).when(admin).then(undefined);
    spec
      .given(standing({ status: 'suspended', removed: true, level: 1, trust_score: 0 }))
      .when(admin)
      .then(undefined);
  });

  it("never lets a company's API key or a company user judge, whatever their standing", () => {
    for (const caller of [
      { role: 'company', isCompanyKey: true },
      { role: 'company', isCompanyKey: false },
      // A key is a key, whatever role it claims.
      { role: 'contributor', isCompanyKey: true },
    ]) {
      const refused = spec
        .given(standing({ appointed: true, level: 10, trust_score: 10 }))
        .when(caller)
        .thenRefuses('NOT_A_JUDGE', 'forbidden');
      expect(refused.message).toMatch(/only contributors and admins judge/);
    }
  });

  it.each(['suspended', 'erased'] as const)('refuses a %s account, even an appointed one', (status) => {
    const refused = spec
      .given(standing({ status, appointed: true }))
      .when(contributor)
      .thenRefuses('NOT_A_JUDGE', 'forbidden');
    expect(refused.message).toContain(`your account is ${status}`);
  });

  it('refuses a judge removed after honeypots, even appointed (appointing again clears the removal)', () => {
    spec
      .given(standing({ removed: true }))
      .when(contributor)
      .thenRefuses('NOT_A_JUDGE', 'forbidden');
    const refused = spec
      .given(standing({ removed: true, appointed: true }))
      .when(contributor)
      .thenRefuses('NOT_A_JUDGE');
    expect(refused.message).toMatch(/withdrawn after honeypot checks/);
  });

  it('accepts an appointed judge whatever their level and trust', () => {
    spec
      .given(standing({ appointed: true, level: 1, trust_score: 0 }))
      .when(contributor)
      .then(undefined);
  });

  it('holds the level and trust thresholds inclusive: exactly at them judges', () => {
    spec
      .given(standing({ level: rules.minLevel, trust_score: rules.minTrust }))
      .when(contributor)
      .then(undefined);
  });

  it('refuses just below either threshold with NOT_A_JUDGE, saying what it takes', () => {
    const lowLevel = spec
      .given(standing({ level: rules.minLevel - 1, trust_score: rules.minTrust }))
      .when(contributor)
      .thenRefuses('NOT_A_JUDGE', 'forbidden');
    expect(lowLevel.message).toContain('judges need level 3 and trust 7.0 (you have level 2, trust 7.0)');
    const lowTrust = spec
      .given(standing({ level: rules.minLevel, trust_score: 6.9 }))
      .when(contributor)
      .thenRefuses('NOT_A_JUDGE', 'forbidden');
    expect(lowTrust.message).toContain('(you have level 3, trust 6.9), or an appointment');
  });

  it('refuses a contributor QC has heard nothing of (the defaults: level 1, trust 5.0)', () => {
    spec.given(defaultStanding).when(contributor).thenRefuses('NOT_A_JUDGE');
  });
});

describe('shouldPrune (given a judge record, after a honeypot)', () => {
  const pruning = { floor: 0.7, minHoneypots: 20 };
  const record = (honeypot_correct: number, honeypot_answered: number) => ({
    correct: 100,
    answered: 100,
    honeypot_correct,
    honeypot_answered,
  });

  it('never removes a judge before minHoneypots, however badly they did', () => {
    expect(shouldPrune(record(0, 0), pruning)).toBe(false);
    expect(shouldPrune(record(0, 19), pruning)).toBe(false);
  });

  it('removes once minHoneypots are in and the honeypot accuracy is below the floor', () => {
    expect(shouldPrune(record(0, 20), pruning)).toBe(true);
    expect(shouldPrune(record(13, 20), pruning)).toBe(true); // 0.65
  });

  it('keeps a judge exactly at the floor (14 of 20 is 0.7), and one above it', () => {
    expect(shouldPrune(record(14, 20), pruning)).toBe(false);
    expect(shouldPrune(record(20, 20), pruning)).toBe(false);
  });

  it('looks at honeypots only: agreeing with majorities does not save a judge', () => {
    expect(
      shouldPrune({ correct: 1000, answered: 1000, honeypot_correct: 10, honeypot_answered: 20 }, pruning),
    ).toBe(true);
    expect(
      shouldPrune({ correct: 0, answered: 1000, honeypot_correct: 20, honeypot_answered: 20 }, pruning),
    ).toBe(false);
  });
});

describe('accuracyOf', () => {
  it('is the one-coin posterior mean (3 + correct) / (4 + answered): a new judge is 0.75', () => {
    expect(accuracyOf({ correct: 0, answered: 0 })).toBe(0.75);
    expect(accuracyOf({ correct: 6, answered: 6 })).toBeCloseTo(0.9, 15);
    expect(accuracyOf({ correct: 0, answered: 6 })).toBeCloseTo(0.3, 15);
    expect(accuracyOf({ correct: 400, answered: 404 })).toBeCloseTo(403 / 408, 15);
  });

  it('counts every scored review, honeypots included in correct/answered; the honeypot columns add nothing', () => {
    const withHoneypots = { correct: 12, answered: 20, honeypot_correct: 0, honeypot_answered: 10 };
    expect(accuracyOf(withHoneypots)).toBe(accuracyOf({ correct: 12, answered: 20 }));
    expect(accuracyOf(withHoneypots)).toBe(15 / 24);
  });

  it('refuses an impossible record', () => {
    expect(() => accuracyOf({ correct: 3, answered: 2 })).toThrow(RangeError);
  });
});

describe('honeypotsSinceRestored (given a restored judge, the record the removal rule reads)', () => {
  const pruning = { floor: 0.7, minHoneypots: 20 };
  const lifetime = { correct: 50, answered: 80, honeypot_correct: 5, honeypot_answered: 25 };

  it('counts only the honeypots since the restoration; the rest of the record stays', () => {
    const since = honeypotsSinceRestored(lifetime, {
      restored_honeypot_correct: 5,
      restored_honeypot_answered: 24,
    });
    expect(since).toEqual({ correct: 50, answered: 80, honeypot_correct: 0, honeypot_answered: 1 });
    // One miss after the restoration is fewer than minHoneypots: not removed again.
    expect(shouldPrune(since, pruning)).toBe(false);
    expect(shouldPrune(lifetime, pruning)).toBe(true);
  });

  it('is the whole record for a judge never restored', () => {
    expect(
      honeypotsSinceRestored(lifetime, { restored_honeypot_correct: 0, restored_honeypot_answered: 0 }),
    ).toEqual(lifetime);
  });
});
