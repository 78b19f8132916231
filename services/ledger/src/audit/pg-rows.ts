import { COMMIT_HORIZON_SQL } from '@tessera/service-kit';
import pg from 'pg';
import type { JsonObject } from '../store/event-store.ts';
import type { CanonicalEvent, ChainedEvent } from './chain.ts';
import type { ChainRow } from './sources.ts';

/**
 * The audit's reader of the Postgres tables, without per-row overhead: each page is one query whose
 * rows come as arrays of the server's text (`rowMode: 'array'`, no type parser at all: no Date, no
 * JSON, no row object, no query builder), and each column is turned into what the audit needs only
 * when it needs it. What it yields is exactly what the store's `readAll` gives (same rows, order,
 * checkpoints, and the same values once parsed: JSON.parse as pg parses jsonb, pg's own timestamp
 * parser wherever the fast path below does not apply).
 */

/** What the audit needs of a pg pool or client. */
export interface Queryable {
  query(config: pg.QueryConfig & { rowMode: 'array' }): Promise<{ rows: unknown[] }>;
}

/** Every column as the server's text (null stays null). */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/**
 * One row of `es_events`, as text: the store's checkpoint (built by the server), stream, revision
 * (float8 text), event id, type, data (jsonb text), metadata (jsonb text), recorded_at (timestamptz
 * text in the session's DateStyle and TimeZone).
 */
export type EventRow = [
  checkpoint: string,
  stream: string,
  revision: string,
  id: string,
  type: string,
  data: string | null,
  metadata: string | null,
  recordedAt: string | null,
];

/** One link of `audit_chain`, as text: seq (bigint text), event id, checkpoint, hash, previous hash. */
export type LinkRow = [seq: string, eventId: string, checkpoint: string, hash: string, prevHash: string];

/**
 * Pages of a keyset-paginated read, each fetched while the previous one is being processed, so the
 * database and the audit work at the same time. Stops at the first short page.
 */
export async function* prefetchedPages<Row>(
  fetch: (after: Row | undefined) => Promise<Row[]>,
  pageSize: number,
): AsyncGenerator<Row[]> {
  let next: Promise<Row[]> | undefined = fetch(undefined);
  try {
    while (next) {
      const rows: Row[] = await next;
      const last = rows.at(-1);
      next = last !== undefined && rows.length === pageSize ? fetch(last) : undefined;
      yield rows;
    }
  } finally {
    // Stopped early: let the page already asked for settle rather than reject unobserved.
    await next?.catch(() => undefined);
  }
}

// The checkpoint of the Postgres store (`encodeCheckpoint`): both numbers zero-padded to 20 digits.
const EVENT_COLUMNS = `lpad(transaction_id::text, 20, '0') || '.' || lpad(position::text, 20, '0'),
  stream, revision::float8, event_id::text, type, data, metadata, recorded_at`;

/** Where the keyset resumes after `checkpoint`: its transaction id and position, without the zeros. */
function keysetOf(checkpoint: string): [string, string] {
  const dot = checkpoint.indexOf('.');
  return [BigInt(checkpoint.slice(0, dot)).toString(), BigInt(checkpoint.slice(dot + 1)).toString()];
}

/**
 * `es_events` with the very query of the store's `readAll` (ordered by (transaction_id, position),
 * only below the commit horizon, so that a late commit is never skipped), by pages.
 */
export function eventRowPages(db: Queryable, pageSize: number): AsyncGenerator<EventRow[]> {
  const fetch = (after: EventRow | undefined) =>
    db
      .query({
        text: after
          ? `select ${EVENT_COLUMNS} from es_events
             where transaction_id < ${COMMIT_HORIZON_SQL}
               and (transaction_id, position) > ($1::xid8, $2::bigint)
             order by transaction_id, position limit ${pageSize}`
          : `select ${EVENT_COLUMNS} from es_events
             where transaction_id < ${COMMIT_HORIZON_SQL}
             order by transaction_id, position limit ${pageSize}`,
        values: after ? keysetOf(after[0]) : [],
        rowMode: 'array',
        types: RAW_TEXT,
      })
      .then((result) => result.rows as EventRow[]);
  return prefetchedPages(fetch, pageSize);
}

/** `audit_chain` in seq order, by pages. */
export function linkRowPages(db: Queryable, pageSize: number): AsyncGenerator<LinkRow[]> {
  const fetch = (after: LinkRow | undefined) =>
    db
      .query({
        text: `select seq::text, event_id::text, checkpoint, hash, prev_hash from audit_chain
               where seq > $1 order by audit_chain.seq limit ${pageSize}`,
        values: [after ? after[0] : '0'],
        rowMode: 'array',
        types: RAW_TEXT,
      })
      .then((result) => result.rows as LinkRow[]);
  return prefetchedPages(fetch, pageSize);
}

/** A link row as the audit's other readers give it. */
export function chainRowOf(row: LinkRow): ChainRow {
  return { seq: Number(row[0]), event_id: row[1], checkpoint: row[2], hash: row[3], prev_hash: row[4] };
}

const EMPTY_OBJECT_TEXT = '{}';

/** A jsonb column's text as pg's own jsonb parser gives it (JSON.parse; null stays null). */
export function jsonOf(text: string | null): JsonObject {
  if (text === null) return null as unknown as JsonObject;
  // The common empty metadata: the same value, without the parser.
  if (text === EMPTY_OBJECT_TEXT) return {};
  return JSON.parse(text) as JsonObject;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * A timestamptz column's text as `Date#toISOString()` writes the Date pg would have parsed it into
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`). The server's usual form in UTC (`2026-01-01 12:00:00.123456+00`, the
 * ISO DateStyle with TimeZone UTC) is rewritten directly, with pg's very arithmetic for the fraction
 * (milliseconds = 1000 × the fraction, truncated); any other text goes through pg's own parser, so
 * whatever it does (another offset, another DateStyle, infinity, a null) this does too.
 */
export function isoOfTimestamp(text: string | null): string {
  if (text !== null && text.length >= 22 && text.length <= 32) {
    const iso = fastIso(text);
    if (iso !== undefined) return iso;
  }
  const parse = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (value: string) => Date;
  return (text === null ? (null as unknown as Date) : parse(text)).toISOString();
}

function fastIso(text: string): string | undefined {
  const end = text.length - 3;
  if (
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 32 || // space
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(end) !== 43 || // +
    text.charCodeAt(end + 1) !== 48 || // 0
    text.charCodeAt(end + 2) !== 48
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  // Years below 100 are shifted by Date.UTC; days past the month's end roll over: leave both to pg.
  // (digits() is -1 for anything but digits.)
  if (
    year < 100 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  ) {
    return undefined;
  }
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS[month - 1]! + (leap ? 1 : 0)) return undefined;
  let ms = 0;
  if (end > 19) {
    // ".d…" up to the offset, digits only: what postgres-date reads as `1000 * parseFloat(fraction)`.
    if (text.charCodeAt(19) !== 46 || end === 20 || digits(text, 20, end) < 0) return undefined;
    ms = Math.trunc(1000 * parseFloat(text.slice(19, end)));
    if (ms > 999) return undefined;
  }
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** Event `seq` of an es_events row, as `chainedEventOf` makes it from the store's RecordedEvent. */
export function chainedEventOfRow(seq: number, row: EventRow): ChainedEvent {
  return {
    seq,
    id: row[3],
    stream: row[1],
    revision: parseFloat(row[2]),
    type: row[4],
    data: jsonOf(row[5]),
    metadata: jsonOf(row[6]),
    recorded_at: isoOfTimestamp(row[7]),
  };
}

/** The event of an es_events row, as `canonicalEventOf` makes it from the store's RecordedEvent. */
export function canonicalEventOfRow(row: EventRow): CanonicalEvent {
  return {
    id: row[3],
    stream: row[1],
    revision: parseFloat(row[2]),
    type: row[4],
    data: jsonOf(row[5]),
    metadata: jsonOf(row[6]),
    recorded_at: isoOfTimestamp(row[7]),
  };
}
