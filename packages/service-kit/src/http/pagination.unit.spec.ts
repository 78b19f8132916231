import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cursorParam, decodeCursor, encodeCursor, opaqueCursor, paginate } from './pagination.ts';

const id = '0f1e2d3c-4b5a-4968-8776-655443322110';

describe('cursors', () => {
  it('round-trips a position and lower-cases its id', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(decodeCursor(encodeCursor({ createdAt: at, id: id.toUpperCase() }))).toEqual({
      createdAt: at,
      id,
    });
  });

  it.each([
    ['not base64url', 'a+b/c'],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['no id', Buffer.from(JSON.stringify({ t: 1 })).toString('base64url')],
    ['an id that is not a UUID', Buffer.from(JSON.stringify({ t: 1, i: "1' or 1=1" })).toString('base64url')],
    ['a negative time', Buffer.from(JSON.stringify({ t: -1, i: id })).toString('base64url')],
    ['extra fields', Buffer.from(JSON.stringify({ t: 1, i: id, x: 1 })).toString('base64url')],
  ])('refuses %s', (_, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
    expect(cursorParam.safeParse(cursor).success).toBe(false);
  });

  it('builds other cursors from a shape (a statement sequence number)', () => {
    const seq = opaqueCursor(z.strictObject({ s: z.number().int().nonnegative() }));
    expect(seq.param.parse(seq.encode({ s: 42 }))).toEqual({ s: 42 });
    expect(seq.param.safeParse(seq.encode({ s: -1 })).success).toBe(false);
  });

  it('pages: the first `limit` rows, and a cursor only when there are more', () => {
    const rows = [3, 2, 1].map((n) => ({ created_at: new Date(n * 1000), id }));
    expect(paginate(rows, 3)).toEqual({ page: rows, next: null });
    const { page, next } = paginate(rows, 2);
    expect(page).toEqual(rows.slice(0, 2));
    expect(decodeCursor(next!)).toEqual({ createdAt: new Date(2000), id });
  });

  it('pages with a cursor of the list’s own when given its encoder', () => {
    const rows = [{ n: 3 }, { n: 2 }, { n: 1 }];
    const cursorOf = (row: { n: number }) => `c${row.n}`;
    expect(paginate(rows, 3, cursorOf)).toEqual({ page: rows, next: null });
    expect(paginate(rows, 2, cursorOf)).toEqual({ page: rows.slice(0, 2), next: 'c2' });
    expect(paginate([], 2, cursorOf)).toEqual({ page: [], next: null });
  });
});
