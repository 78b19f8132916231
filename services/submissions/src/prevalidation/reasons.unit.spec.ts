import { reasonCode } from '@tessera/contracts';
import { describe, expect, it } from 'vitest';
import { orderReasons, prevalidationReasons, reasonTexts } from './reasons.ts';

describe('pre-validation reasons', () => {
  it('are valid event reason codes, each with a text for the contributor', () => {
    for (const reason of prevalidationReasons) {
      expect(reasonCode.safeParse(reason).success, reason).toBe(true);
      expect(reasonTexts[reason].length, reason).toBeGreaterThan(40);
    }
    expect(Object.keys(reasonTexts).sort()).toEqual([...prevalidationReasons].sort());
  });

  it('are put in the canonical order, each once', () => {
    expect(orderReasons(['AUDIO_MOSTLY_SILENT', 'AUDIO_TOO_SHORT', 'AUDIO_MOSTLY_SILENT'])).toEqual([
      'AUDIO_TOO_SHORT',
      'AUDIO_MOSTLY_SILENT',
    ]);
    expect(orderReasons([])).toEqual([]);
  });
});
