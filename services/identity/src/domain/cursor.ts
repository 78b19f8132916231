/**
 * Opaque pagination cursors for lists ordered newest first by (created_at, id): the position
 * of the last item shown, base64url JSON. Anything that does not decode to one is refused.
 */
export interface Position {
  createdAt: Date;
  id: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.getTime(), i: position.id })).toString(
    'base64url',
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function decodeCursor(cursor: string): Position | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { t, i } = value as { t?: unknown; i?: unknown };
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) return null;
    if (typeof i !== 'string' || !UUID.test(i)) return null;
    return { createdAt: new Date(t), id: i };
  } catch {
    return null;
  }
}

/** Given one row more than the page size, the page and the cursor to the next one. */
export function paginate<T extends Position>(
  rows: readonly T[],
  limit: number,
): { page: T[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last ? encodeCursor(last) : null };
}
