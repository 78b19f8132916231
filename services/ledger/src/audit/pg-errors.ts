/** SQLSTATE of a missing table: the audit, store or projection migrations have not run here. */
export const UNDEFINED_TABLE = '42P01';

export function isUndefinedTable(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === UNDEFINED_TABLE;
}
