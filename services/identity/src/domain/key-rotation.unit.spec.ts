import { describe, expect, it } from 'vitest';
import {
  type KeyTimes,
  planRotation,
  prunableKeys,
  publishedKeys,
  rotationDue,
  signingKey,
} from './key-rotation.ts';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000);
const windows = { tokenTtlS: 900, graceS: 120 };
const key = (kid: string, activatesAt: number, retiredAt: number | null = null): KeyTimes => ({
  kid,
  createdAt: at(activatesAt),
  activatesAt: at(activatesAt),
  retiredAt: retiredAt === null ? null : at(retiredAt),
});

describe('signing key windows', () => {
  it('signs with the newest activated key that is not retired', () => {
    const keys = [key('a', 0, 1000), key('b', 1000)];
    expect(signingKey(keys, at(999))?.kid).toBe('a');
    expect(signingKey(keys, at(1000))?.kid).toBe('b');
    expect(signingKey([key('pending', 50)], at(10))).toBeUndefined();
  });

  it('keeps a retired key published until its last token has expired, plus grace', () => {
    const keys = [key('old', 0, 1000), key('new', 1000)];
    const lastOldTokenExpires = 1000 + 900;
    expect(publishedKeys(keys, at(lastOldTokenExpires + 119), windows).map((k) => k.kid)).toEqual([
      'old',
      'new',
    ]);
    expect(publishedKeys(keys, at(lastOldTokenExpires + 120), windows).map((k) => k.kid)).toEqual(['new']);
    expect(prunableKeys(keys, at(lastOldTokenExpires + 120), windows).map((k) => k.kid)).toEqual(['old']);
  });

  it('publishes a pending key before it signs', () => {
    const keys = [key('current', 0, 60), key('next', 60)];
    expect(publishedKeys(keys, at(1), windows).map((k) => k.kid)).toEqual(['current', 'next']);
    expect(signingKey(keys, at(1))?.kid).toBe('current');
  });

  it('plans a rotation: the new key activates after the lead, every live key retires then', () => {
    const plan = planRotation([key('a', 0, 10), key('b', 10), key('c', 100)], at(50), 60);
    expect(plan).toEqual({
      activatesAt: at(110),
      retire: [
        { kid: 'b', retiredAt: at(110) },
        { kid: 'c', retiredAt: at(110) },
      ],
    });
  });

  it('is due for rotation with no key, no signing key, or a key older than the interval', () => {
    expect(rotationDue([], at(0), 3600)).toBe(true);
    expect(rotationDue([key('a', 0, 10)], at(20), 3600)).toBe(true);
    expect(rotationDue([key('a', 0)], at(3599), 3600)).toBe(false);
    expect(rotationDue([key('a', 0)], at(3600), 3600)).toBe(true);
    // A pending successor counts as the newest key: no second rotation while it waits.
    expect(rotationDue([key('a', 0, 3700), key('b', 3700)], at(3650), 3600)).toBe(false);
  });
});
