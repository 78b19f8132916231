/**
 * Opaque keyset cursors (base64url JSON), one kind per ordering:
 * - the feed: (priority_score, id) of the last task shown, both descending;
 * - a campaign's task list: (created_at, id) of the last task shown, newest first.
 * Each carries its kind, so a cursor of one list is refused by the other. Anything that does not
 * decode to a cursor we issued is refused (null), never passed to SQL.
 *
 * Scores move: a claim lowers a task's score, an edit of its reward or priority changes it. A
 * keyset cursor on a moving key cannot promise a perfectly stable walk: between two pages a task
 * may move above the cursor (and not be shown) or below it (and be shown again). Nothing is ever
 * shown twice within one page, and when nothing changes every eligible task is shown exactly once.
 */

export interface FeedPosition {
  score: number;
  id: string;
}

export interface ListPosition {
  /** created_at as Postgres keeps it, to the microsecond (ISO, UTC): a JS Date would drop them. */
  at: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,300}$/;

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decode(cursor: string): Record<string, unknown> | null {
  if (!CURSOR.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Scores are doubles; JSON keeps every finite double exactly (shortest round-trip form). */
export function encodeFeedCursor(position: FeedPosition): string {
  return encode({ k: 'feed', s: position.score, i: position.id });
}

export function decodeFeedCursor(cursor: string): FeedPosition | null {
  const value = decode(cursor);
  if (!value || value.k !== 'feed') return null;
  const { s, i } = value;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > 1e9) return null;
  if (typeof i !== 'string' || !UUID.test(i)) return null;
  return { score: s, id: i };
}

export function encodeListCursor(position: ListPosition): string {
  return encode({ k: 'list', t: position.at, i: position.id });
}

export function decodeListCursor(cursor: string): ListPosition | null {
  const value = decode(cursor);
  if (!value || value.k !== 'list') return null;
  const { t, i } = value;
  if (typeof t !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(t)) return null;
  if (Number.isNaN(Date.parse(t))) return null;
  if (typeof i !== 'string' || !UUID.test(i)) return null;
  return { at: t, id: i };
}

/** Given one row more than the page size: the page, and the cursor to the next one if any. */
export function paginate<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (last: T) => string,
): { page: T[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
