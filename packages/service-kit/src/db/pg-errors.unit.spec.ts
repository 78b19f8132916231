import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isTransientConflict, isUniqueViolation, pgErrorOf } from './pg-errors.ts';

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

  it('tells a database that cannot be reached from a statement that failed', () => {
    const pgError = (code: string) => Object.assign(new Error('pg'), { code });
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53300']) {
      expect(isDatabaseUnavailable(pgError(code)), code).toBe(true);
    }
    for (const errno of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
      expect(isDatabaseUnavailable(pgError(errno)), errno).toBe(true);
    }
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(
      isDatabaseUnavailable(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')])),
    ).toBe(true);

    for (const code of ['23505', '23503', '40001', '40P01', '42P01', '22P02']) {
      expect(isDatabaseUnavailable(pgError(code)), code).toBe(false);
    }
    expect(isDatabaseUnavailable(new AggregateError([pgError('ECONNREFUSED'), new Error('other')]))).toBe(
      false,
    );
    expect(isDatabaseUnavailable(new AggregateError([]))).toBe(false);
    expect(isDatabaseUnavailable(new Error('Connection to the moon lost'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });

  it('tells a transaction rolled back by a collision (deadlock, serialization) from other failures', () => {
    const pgError = (code: string) => Object.assign(new Error('pg'), { code });
    expect(['40P01', '40001'].map((code) => isTransientConflict(pgError(code)))).toEqual([true, true]);
    for (const code of ['23505', '57P01', '42P01', 'ECONNREFUSED']) {
      expect(isTransientConflict(pgError(code)), code).toBe(false);
    }
    expect(isTransientConflict(null)).toBe(false);
  });
});
