import { describe, expect, it } from 'vitest';
import {
  type ContributorStanding,
  defaultStanding,
  ineligibility,
  primaryLanguage,
  type TaskRequirements,
} from './decide.ts';

const open: TaskRequirements = {
  min_level: 1,
  min_trust_score: 0,
  required_languages: [],
  regions: [],
  is_private: false,
};

const who = (standing: Partial<ContributorStanding> = {}): ContributorStanding => ({
  ...defaultStanding,
  ...standing,
});

describe('primaryLanguage', () => {
  it.each([
    ['en', 'en'],
    ['EN', 'en'],
    ['es-MX', 'es'],
    ['pt-BR', 'pt'],
    ['zh-Hant-TW', 'zh'],
    ['Fil', 'fil'],
  ])('%s speaks %s', (tag, primary) => {
    expect(primaryLanguage(tag)).toBe(primary);
  });
});

describe('defaultStanding', () => {
  it('is an active level 1 contributor with trust 5.0, no languages and no country', () => {
    expect(defaultStanding).toEqual({
      status: 'active',
      level: 1,
      trust_score: 5,
      languages: [],
      country: null,
    });
  });

  it('may do a task open to anyone', () => {
    expect(ineligibility(defaultStanding, open, false)).toEqual([]);
  });
});

describe('ineligibility', () => {
  it('has no reason when every requirement is met', () => {
    const task = {
      min_level: 3,
      min_trust_score: 7.5,
      required_languages: ['sw'],
      regions: ['KE', 'TZ'],
      is_private: true,
    };
    expect(
      ineligibility(who({ level: 3, trust_score: 7.5, languages: ['en', 'sw'], country: 'KE' }), task, true),
    ).toEqual([]);
  });

  it.each(['suspended', 'erased'] as const)('refuses a %s account', (status) => {
    expect(ineligibility(who({ status }), open, false)).toEqual(['ACCOUNT_NOT_ACTIVE']);
  });

  it('refuses a level below the minimum, not one at it', () => {
    expect(ineligibility(who({ level: 2 }), { ...open, min_level: 3 }, false)).toEqual(['LEVEL_TOO_LOW']);
    expect(ineligibility(who({ level: 3 }), { ...open, min_level: 3 }, false)).toEqual([]);
  });

  it('refuses a trust score below the minimum, not one at it', () => {
    expect(ineligibility(who({ trust_score: 6.9 }), { ...open, min_trust_score: 7 }, false)).toEqual([
      'TRUST_TOO_LOW',
    ]);
    expect(ineligibility(who({ trust_score: 7 }), { ...open, min_trust_score: 7 }, false)).toEqual([]);
  });

  describe('languages', () => {
    const spanish = { ...open, required_languages: ['es'] };

    it('accepts any language when none is required, even a contributor who lists none', () => {
      expect(ineligibility(who({ languages: [] }), open, false)).toEqual([]);
    });

    it('refuses a contributor who speaks none of the required languages', () => {
      expect(ineligibility(who({ languages: ['en', 'fr'] }), spanish, false)).toEqual(['LANGUAGE_MISMATCH']);
      expect(ineligibility(who({ languages: [] }), spanish, false)).toEqual(['LANGUAGE_MISMATCH']);
    });

    it('matches on the primary subtag, in either direction, whatever the case', () => {
      expect(ineligibility(who({ languages: ['es-MX'] }), spanish, false)).toEqual([]);
      expect(
        ineligibility(who({ languages: ['es'] }), { ...open, required_languages: ['es-AR'] }, false),
      ).toEqual([]);
      expect(
        ineligibility(who({ languages: ['PT-br'] }), { ...open, required_languages: ['pt-PT'] }, false),
      ).toEqual([]);
    });

    it('needs only one of several required languages', () => {
      const either = { ...open, required_languages: ['yo', 'ha'] };
      expect(ineligibility(who({ languages: ['ha'] }), either, false)).toEqual([]);
      expect(ineligibility(who({ languages: ['ig'] }), either, false)).toEqual(['LANGUAGE_MISMATCH']);
    });
  });

  describe('regions', () => {
    const eastAfrica = { ...open, regions: ['KE', 'UG'] };

    it('accepts anyone, even without a country, when the task names no region', () => {
      expect(ineligibility(who({ country: null }), open, false)).toEqual([]);
    });

    it('accepts a contributor from one of the regions', () => {
      expect(ineligibility(who({ country: 'UG' }), eastAfrica, false)).toEqual([]);
    });

    it('refuses a contributor from elsewhere or with no country', () => {
      expect(ineligibility(who({ country: 'NG' }), eastAfrica, false)).toEqual(['REGION_MISMATCH']);
      expect(ineligibility(who({ country: null }), eastAfrica, false)).toEqual(['REGION_MISMATCH']);
    });
  });

  describe('private campaigns', () => {
    it('refuses contributors who are not invited and accepts those who are', () => {
      expect(ineligibility(who(), { ...open, is_private: true }, false)).toEqual(['NOT_INVITED']);
      expect(ineligibility(who(), { ...open, is_private: true }, true)).toEqual([]);
    });

    it('ignores invitations to a public campaign', () => {
      expect(ineligibility(who(), open, false)).toEqual([]);
    });
  });

  it('lists every reason at once, in a stable order', () => {
    const strict = {
      min_level: 10,
      min_trust_score: 9,
      required_languages: ['ja'],
      regions: ['JP'],
      is_private: true,
    };
    expect(
      ineligibility(who({ status: 'suspended', country: 'FR', languages: ['fr'] }), strict, false),
    ).toEqual([
      'ACCOUNT_NOT_ACTIVE',
      'LEVEL_TOO_LOW',
      'TRUST_TOO_LOW',
      'LANGUAGE_MISMATCH',
      'REGION_MISMATCH',
      'NOT_INVITED',
    ]);
  });
});
