import { decider } from '@tessera/service-kit/testing';
import { describe, it } from 'vitest';
import { decideScreening, type ScreeningFacts } from './decide.ts';

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
