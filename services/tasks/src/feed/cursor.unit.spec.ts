import { describe, expect, it } from 'vitest';
import {
  decodeFeedCursor,
  decodeListCursor,
  encodeFeedCursor,
  encodeListCursor,
  MAX_FEED_SCORE,
} from './cursor.ts';
import { priorityScore } from './score.ts';

const id = '0195a0e2-7b1c-7d2e-8f00-123456789abc';

describe('feed cursors', () => {
  it('round-trip a score to the last bit', () => {
    for (const score of [0, 10.15, 20 + 1 / 3, 19.999999999999996, 0.1 + 0.2, 1e6, MAX_FEED_SCORE]) {
      const cursor = encodeFeedCursor({ score, id });
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeFeedCursor(cursor)).toEqual({ score, id });
    }
  });

  it('take the score of a task with the largest reward money allows', () => {
    const richest = {
      is_priority: false,
      slots_taken: 3,
      max_submissions: 10,
      reward_amount: Number.MAX_SAFE_INTEGER,
    };
    const score = priorityScore(richest);
    expect(score).toBeGreaterThan(1e9);
    expect(decodeFeedCursor(encodeFeedCursor({ score, id }))).toEqual({ score, id });
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
      b64({ k: 'feed', s: MAX_FEED_SCORE * 2, i: id }),
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
