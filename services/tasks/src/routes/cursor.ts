import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';

/**
 * Opaque pagination cursors for lists ordered newest first by (created_at, id): the position of
 * the last item shown, as base64url JSON. Anything that does not decode to one is refused (400).
 *
 * The position keeps milliseconds (a JS Date): write `created_at` from the application's clock
 * (`new Date()`), not the database's `now()`, or rows in the same millisecond could be skipped.
 */
export interface Position {
  createdAt: Date;
  /** The row's tie-breaker: a UUID (its id, or another unique UUID column). */
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.getTime(), i: position.id })).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string): Position | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { t, i } = value as { t?: unknown; i?: unknown };
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) return null;
    if (typeof i !== 'string' || !UUID.test(i)) return null;
    return { createdAt: new Date(t), id: i.toLowerCase() };
  } catch {
    return null;
  }
}

/** A `cursor` query parameter: decodes to a position, or fails validation (400). */
export const cursorParam = z.string().transform((value, ctx) => {
  const position = decodeCursor(value);
  if (!position) {
    ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
    return z.NEVER;
  }
  return position;
});

/** A `limit` query parameter: 1..max, `fallback` when absent. */
export function limitParam(fallback = 20, max = 100) {
  return z.coerce.number().int().min(1).max(max).default(fallback);
}

/**
 * The rows after `position` in (created_at desc, id desc) order, as a where-clause:
 * `.where(after(position))`, or with other column names `after(position, 'i.created_at', 'i.user_id')`.
 */
export function after(
  position: Position,
  createdAtColumn = 'created_at',
  idColumn = 'id',
): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(createdAtColumn)}, ${sql.ref(idColumn)}) < (${position.createdAt}, ${position.id})`;
}

/**
 * Given up to `limit + 1` rows, the page and the cursor to the next one. `positionOf` says where a
 * row sits when its columns are not named `created_at` and `id`.
 */
export function paginate<T>(
  rows: readonly T[],
  limit: number,
  positionOf: (row: T) => Position = (row) => {
    const { created_at, id } = row as { created_at: Date; id: string };
    return { createdAt: created_at, id };
  },
): { page: T[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null };
}
