import { describe, expect, it } from 'vitest';
import { decodeFeedCursor, decodeListCursor, encodeFeedCursor, encodeListCursor } from './cursor.ts';

const id = '0195a0e2-7b1c-7d2e-8f00-123456789abc';

describe('feed cursors', () => {
  it('round-trip a score to the last bit', () => {
    for (const score of [0, 10.15, 20 + 1 / 3, 19.999999999999996, 0.1 + 0.2, 1e6]) {
      const cursor = encodeFeedCursor({ score, id });
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeFeedCursor(cursor)).toEqual({ score, id });
    }
  });

  it('refuse anything that is not a feed cursor we issued', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const bad = [
      '',
      'garbage!',
      'A'.repeat(400),
      Buffer.from('not json').toString('base64url'),
      b64([1, 2]),
      b64(null),
      b64({ s: 1, i: id }),
      b64({ k: 'list', s: 1, i: id }),
      b64({ k: 'feed', s: 'high', i: id }),
      b64({ k: 'feed', s: -1, i: id }),
      b64({ k: 'feed', s: 1, i: "x'; drop table tasks" }),
      b64({ k: 'feed', s: 1, i: id.toUpperCase() }),
      encodeListCursor({ at: '2025-01-01T00:00:00.000000Z', id }),
    ];
    for (const cursor of bad) expect(decodeFeedCursor(cursor), cursor).toBeNull();
  });
});

describe('list cursors', () => {
  it('round-trip a microsecond timestamp', () => {
    const position = { at: '2025-03-04T05:06:07.089123Z', id };
    expect(decodeListCursor(encodeListCursor(position))).toEqual(position);
  });

  it('refuse other kinds and malformed times', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      encodeFeedCursor({ score: 1, id }),
      b64({ k: 'list', t: '2025-03-04T05:06:07Z', i: id }),
      b64({ k: 'list', t: '2025-13-04T05:06:07.000000Z', i: id }),
      b64({ k: 'list', t: 12, i: id }),
      b64({ k: 'list', t: '2025-03-04T05:06:07.089123Z', i: 'nope' }),
    ]) {
      expect(decodeListCursor(cursor), cursor).toBeNull();
    }
  });
});
