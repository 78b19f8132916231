/** What node-postgres attaches to a database error: the SQLSTATE and, for constraints, the name. */
export interface PgErrorInfo {
  code: string;
  constraint?: string;
}

export function pgErrorOf(error: unknown): PgErrorInfo | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  return typeof constraint === 'string' ? { code, constraint } : { code };
}

/** A unique violation (23505), of `constraint` when named: the loser of an insert race. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const info = pgErrorOf(error);
  return info?.code === '23505' && (constraint === undefined || info.constraint === constraint);
}

/** SQLSTATEs of a database that is down, restarting or refusing connections: worth a retry. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What node-postgres and the socket say when the connection itself is gone. */
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
];

/**
 * True when the error says the database could not be reached (not that a statement was wrong):
 * a connection exception (class 08), a server shutting down or starting (57P01–57P03), too many
 * connections, a refused or reset socket, or node-postgres' own "Connection terminated". The
 * request may be sent again: it is a 503, not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const info = pgErrorOf(error);
  if (info && (info.code.startsWith('08') || UNAVAILABLE_STATES.has(info.code))) return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_ERRNOS.has(code)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message)))
    return true;
  // An AggregateError (a host with several addresses) is unavailable when all its parts are.
  const { errors } = error as { errors?: unknown };
  return Array.isArray(errors) && errors.length > 0 && errors.every(isDatabaseUnavailable);
}

/**
 * A transaction Postgres rolled back because it collided with another (a deadlock, 40P01, or a
 * serialization failure, 40001): nothing it did was kept, and the same request sent again usually
 * succeeds. The 10,000 chaos run had 5 claims answered 500 by a deadlock in `reserveSlot`.
 */
export function isTransientConflict(error: unknown): boolean {
  const info = typeof error === 'object' && error !== null ? pgErrorOf(error) : undefined;
  return info?.code === '40P01' || info?.code === '40001';
}
