import { describe, expect, it } from 'vitest';
import { krippendorffAlpha, krippendorffAlphaOfRatings } from './agreement.ts';

/** Published examples are printed coders × units; alpha takes units × coders. */
const byUnit = <V>(coders: readonly (readonly V[])[]): V[][] =>
  coders[0]!.map((_, unit) => coders.map((values) => values[unit]!));
const _ = null;

describe('krippendorffAlpha, published nominal examples', () => {
  it('Krippendorff (2011), 4 observers × 12 units with missing values: 0.743', () => {
    const units = byUnit([
      [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
      [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
      [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
      [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
    ]);
    expect(krippendorffAlpha(units)).toBeCloseTo(0.743, 3);
  });

  it('Krippendorff (2011), 2 observers × 10 units of binary data: 0.095', () => {
    const units = byUnit([
      [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
      [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
    ]);
    expect(krippendorffAlpha(units)).toBeCloseTo(0.095, 3);
  });

  it("Wikipedia's computational example, 3 coders × 15 units: 0.691", () => {
    const units = byUnit([
      [_, _, _, _, _, 3, 4, 1, 2, 1, 1, 3, 3, _, 3],
      [1, _, 2, 1, 3, 3, 4, 3, _, _, _, _, _, _, _],
      [_, _, 2, 1, 3, 4, 4, _, 2, 1, 1, 3, 3, _, 4],
    ]);
    expect(krippendorffAlpha(units)).toBeCloseTo(0.691, 3);
  });
});

describe('krippendorffAlpha, edge cases', () => {
  it('is 1 for perfect agreement over two or more values', () => {
    expect(
      krippendorffAlpha([
        ['approve', 'approve', 'approve'],
        ['reject', 'reject'],
        ['approve', undefined, 'approve'],
      ]),
    ).toBe(1);
  });

  it('is null with fewer than two pairable values', () => {
    expect(krippendorffAlpha([])).toBeNull();
    expect(krippendorffAlpha([['approve'], ['reject', null], [null, null]])).toBeNull();
  });

  it('is null when every pairable value is the same (no variation, alpha undefined)', () => {
    expect(
      krippendorffAlpha([
        ['approve', 'approve'],
        ['approve', 'approve', 'approve'],
      ]),
    ).toBeNull();
  });

  it('ignores units only one coder rated', () => {
    const base = [
      ['approve', 'approve'],
      ['reject', 'approve'],
      ['reject', 'reject'],
    ];
    expect(krippendorffAlpha([...base, ['reject'], ['revision', null]])).toBe(krippendorffAlpha(base));
  });

  it('is below 0 for systematic disagreement', () => {
    expect(
      krippendorffAlpha([
        ['approve', 'reject'],
        ['reject', 'approve'],
      ]),
    ).toBeLessThan(0);
  });
});

describe('krippendorffAlphaOfRatings', () => {
  it('groups ratings by unit, and a coder counts once per unit with their last value', () => {
    const ratings = [
      { unit: 's1', coder: 'j1', value: 'approve' },
      { unit: 's1', coder: 'j2', value: 'approve' },
      { unit: 's2', coder: 'j1', value: 'approve' },
      { unit: 's2', coder: 'j2', value: 'reject' },
      { unit: 's3', coder: 'j1', value: 'approve' },
      { unit: 's3', coder: 'j1', value: 'reject' },
      { unit: 's3', coder: 'j3', value: 'reject' },
    ];
    expect(krippendorffAlphaOfRatings(ratings)).toBe(
      krippendorffAlpha([
        ['approve', 'approve'],
        ['approve', 'reject'],
        ['reject', 'reject'],
      ]),
    );
  });
});
