import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { isUuid } from './schemas.ts';

/**
 * Opaque pagination cursors: base64url JSON of where the last item shown sits. Anything that does
 * not decode to a position this API handed out is refused (400).
 */
export function opaqueCursor<T>(shape: z.ZodType<T>) {
  const encode = (position: T): string => Buffer.from(JSON.stringify(position)).toString('base64url');
  const decode = (cursor: string): T | null => {
    if (!/^[A-Za-z0-9_-]{1,300}$/.test(cursor)) return null;
    try {
      const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  };
  /** A `cursor` query parameter: decodes to a position, or fails validation. */
  const param = z.string().transform((value, ctx) => {
    const position = decode(value);
    if (position === null) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return position;
  });
  return { encode, decode, param };
}

/**
 * Where a row sits in a list ordered newest first by (created_at, id). The position keeps
 * milliseconds (a JS Date): write `created_at` from the application's clock, not the database's
 * `now()`, or rows in the same millisecond could be skipped.
 */
export interface Position {
  createdAt: Date;
  /** The row's tie-breaker: a UUID (its id, or another unique UUID column). */
  id: string;
}

const positionCursor = opaqueCursor(
  z
    .strictObject({ t: z.number().int().nonnegative().max(8.64e15), i: z.string().refine(isUuid) })
    .transform(({ t, i }): Position => ({ createdAt: new Date(t), id: i.toLowerCase() })),
);

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.getTime(), i: position.id })).toString(
    'base64url',
  );
}
export const decodeCursor = positionCursor.decode;
/** A `cursor` query parameter of a (created_at, id) list. */
export const cursorParam = positionCursor.param;

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
 * Given up to `limit + 1` rows, the page and the cursor to the next one. `cursorOf` encodes where
 * the last row of the page sits: by default its (created_at, id) position; a list with a cursor of
 * its own (`opaqueCursor`) passes its encoder.
 */
export function paginate<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (last: T) => string = (last) => {
    const { created_at, id } = last as { created_at: Date; id: string };
    return encodeCursor({ createdAt: created_at, id });
  },
): { page: T[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
