import { describe, expect, it } from 'vitest';
import { idAbove, timeOf } from './order.ts';

describe('notification ids in commit order', () => {
  const floor = '01900000-0000-7fff-bfff-ffffffffffff';

  it('keeps a fresh id that is already above the floor', () => {
    const fresh = '01900000-0001-7000-8000-000000000000';
    expect(idAbove(floor, fresh)).toBe(fresh);
    expect(idAbove(null, fresh)).toBe(fresh);
  });

  it('moves an id that is not above the floor to the next millisecond (a clock behind)', () => {
    const behind = '018fffff-ffff-7000-8000-000000000000';
    const id = idAbove(floor, behind);
    expect(id > floor).toBe(true);
    expect(timeOf(id)).toBe(timeOf(floor) + 1);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('reads the millisecond of a UUIDv7', () => {
    expect(timeOf('01900000-0001-7000-8000-000000000000')).toBe(0x019000000001);
  });
});
