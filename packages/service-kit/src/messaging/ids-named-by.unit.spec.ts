import { describe, expect, it } from 'vitest';
import { idsNamedBy } from './consumer.ts';

const a = '0190a1b2-0000-7000-8000-00000000000a';
const b = '0190a1b2-0000-7000-8000-00000000000b';

describe('idsNamedBy', () => {
  it('answers the distinct UUIDs named in the given fields, lower-cased and sorted', () => {
    const events = [
      { data: { user_id: b, other_id: a } },
      { data: { judge_id: a.toUpperCase(), user_id: 'not-a-uuid' } },
      { data: { user_id: b } },
      { data: { user_id: 42 } },
      { data: null },
    ];
    expect(idsNamedBy(events, ['user_id', 'judge_id'])).toEqual([a, b]);
    expect(idsNamedBy(events, ['user_id'])).toEqual([b]);
    expect(idsNamedBy(events, ['missing'])).toEqual([]);
  });
});
