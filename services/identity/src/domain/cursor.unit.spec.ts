import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, paginate } from './cursor.ts';

const id = '0195a0e2-7b1c-7d2e-8f00-123456789abc';

describe('pagination cursors', () => {
  it('round-trip a position, to the millisecond', () => {
    const position = { createdAt: new Date('2025-03-04T05:06:07.089Z'), id };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it('refuse anything that is not one of ours', () => {
    const bad = [
      '',
      'not base64!',
      Buffer.from('[]').toString('base64url'),
      Buffer.from('{"t":"x","i":"y"}').toString('base64url'),
      Buffer.from(`{"t":-1,"i":"${id}"}`).toString('base64url'),
      Buffer.from('{"t":1,"i":"x; drop table users"}').toString('base64url'),
      'A'.repeat(500),
    ];
    for (const cursor of bad) expect(decodeCursor(cursor), cursor).toBeNull();
  });

  it('page: a next cursor only when more rows follow', () => {
    const rows = [3, 2, 1].map((n) => ({ createdAt: new Date(n * 1000), id }));
    expect(paginate(rows, 3)).toEqual({ page: rows, next: null });
    const { page, next } = paginate(rows, 2);
    expect(page).toEqual(rows.slice(0, 2));
    expect(decodeCursor(next!)).toEqual({ createdAt: new Date(2000), id });
  });
});
