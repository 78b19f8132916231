import { pgErrorOf } from '@tessera/service-kit';

/** SQLSTATE of a missing table: the audit, store or projection migrations have not run here. */
export const UNDEFINED_TABLE = '42P01';

export function isUndefinedTable(error: unknown): boolean {
  return pgErrorOf(error)?.code === UNDEFINED_TABLE;
}
