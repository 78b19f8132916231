import { describe, expect, it } from 'vitest';
import { isUniqueViolation, pgErrorOf } from './pg-errors.ts';

describe('Postgres errors', () => {
  const unique = Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'one_per_user' });

  it('recognises a unique violation, of a named constraint when asked', () => {
    expect(isUniqueViolation(unique)).toBe(true);
    expect(isUniqueViolation(unique, 'one_per_user')).toBe(true);
    expect(isUniqueViolation(unique, 'another')).toBe(false);
  });

  it('is not fooled by other errors or non-errors', () => {
    expect(isUniqueViolation(Object.assign(new Error('fk'), { code: '23503' }))).toBe(false);
    expect(isUniqueViolation(new Error('23505'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
    expect(pgErrorOf({ code: 'ECONNREFUSED' })).toBeUndefined();
  });
});
