import type { ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { Reader } from './audience.ts';
import type { NotificationHub } from './hub.ts';
import { itemsAfter, type NotificationItem, newestId } from './repository.ts';
import { SSE_HEADERS, sseComment, sseEvent, sseRetry } from './sse.ts';

const NIL = '00000000-0000-0000-0000-000000000000';
const BATCH = 100;
/** A client this far behind is cut off; it reconnects with Last-Event-ID and catches up. */
const MAX_BUFFERED_BYTES = 1_048_576;
const RECONNECT_AFTER_MS = 2_000;

export interface StreamOptions {
  db: Kysely<EngagementDB>;
  hub: NotificationHub;
  /** The request's logger. */
  logger: { info(message: string): void; warn(context: object, message: string): void };
  reader: Reader;
  /** Resume after this id; absent: only what is committed from now on. */
  lastEventId: string | undefined;
  heartbeatMs: number;
  requestId: string;
  /** The session of the token that opened it (`sid`): its revocation ends the stream. */
  sessionId?: string | undefined;
  /** When the token that opened it expires (ms since the epoch): the stream ends then. */
  expiresAt?: number | undefined;
  /** Now (the service's clock). */
  clock: () => Date;
  /** Whether the token's session and its user still stand (not revoked, suspended or erased). */
  stillAllowed: () => Promise<boolean>;
}

/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2_147_483_647;

/** The JSON an SSE `notification` event carries: the list's item shape. */
export function presentItem(item: NotificationItem) {
  return {
    id: item.id,
    kind: item.kind,
    title: item.title,
    body: item.body,
    data: item.data,
    created_at: item.created_at.toISOString(),
    read_at: item.read_at?.toISOString() ?? null,
  };
}

/**
 * Runs one notification stream on a hijacked response until the client leaves, the service
 * stops, the token that opened it expires, its session is revoked or its user suspended or erased. Rows are read from the database after the last id sent, in id order (ids follow commit
 * order, see order.ts), on connect and whenever the hub wakes the stream: the catch-up and the live
 * part are the same query, so nothing falls between them and nothing is sent twice.
 */
export async function runStream(response: ServerResponse, options: StreamOptions): Promise<void> {
  const { db, hub, logger, reader } = options;
  let last = options.lastEventId ?? NIL;
  let ready = false;
  let pulling = false;
  let dirty = false;
  let ended = false;
  let heartbeat: NodeJS.Timeout | undefined = undefined;
  let expiry: NodeJS.Timeout | undefined = undefined;
  let unsubscribe = () => {};
  const { expiresAt, clock } = options;
  const expired = () => expiresAt !== undefined && clock().getTime() >= expiresAt;

  const end = (status = 503) => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    clearTimeout(expiry);
    unsubscribe();
    if (!response.headersSent) response.statusCode = status;
    // The connection goes too: a keep-alive socket left behind would hold up the server's close.
    if (!response.writableEnded) response.end(() => response.destroy());
  };
  const write = (chunk: string) => {
    if (ended) return;
    response.write(chunk);
    if (response.writableLength > MAX_BUFFERED_BYTES) {
      logger.info('notification stream too far behind; closing it');
      end();
    }
  };
  const pull = async (): Promise<void> => {
    if (pulling || !ready) {
      dirty = true;
      return;
    }
    pulling = true;
    try {
      do {
        dirty = false;
        let rows: NotificationItem[];
        do {
          if (expired()) return end();
          rows = await itemsAfter(db, reader, last, BATCH);
          for (const row of rows) {
            if (ended || expired()) return end();
            write(sseEvent(row.id, 'notification', presentItem(row)));
            last = row.id;
          }
        } while (rows.length === BATCH && !ended);
      } while (dirty && !ended);
    } catch (error) {
      logger.warn({ err: error }, 'notification stream could not read; closing it');
      end();
    } finally {
      pulling = false;
    }
  };

  response.on('close', () => end());
  if (response.destroyed) return end();
  // Subscribed before the starting point is read, so a commit in between wakes the stream. The
  // headers go out once the starting point is known: a client whose response opened is subscribed.
  // Subscribed before the session and the user are checked, too: a revocation, suspension or
  // erasure committed after the check ends the stream through the hub, one before it fails the check.
  unsubscribe = hub.add({
    userId: reader.userId,
    role: reader.role,
    sessionId: options.sessionId?.toLowerCase(),
    wake: () => void pull(),
    end: () => end(),
    recheck: () =>
      void options.stillAllowed().then(
        (allowed) => allowed || end(),
        () => undefined,
      ),
  });
  try {
    if (!(await options.stillAllowed())) return end(401);
    if (options.lastEventId === undefined) last = (await newestId(db, reader)) ?? NIL;
  } catch (error) {
    logger.warn({ err: error }, 'notification stream could not start');
    end();
    return;
  }
  if (ended) return;
  // The token's life is the stream's: at its expiry the stream ends, and the client reconnects
  // (with Last-Event-ID) under a fresh token. Checked by the clock on every read and heartbeat too.
  if (expiresAt !== undefined) {
    expiry = setTimeout(() => end(), Math.min(Math.max(0, expiresAt - clock().getTime()), MAX_TIMER_MS));
  }
  response.writeHead(200, { ...SSE_HEADERS, 'x-request-id': options.requestId });
  write(sseRetry(RECONNECT_AFTER_MS));
  heartbeat = setInterval(() => (expired() ? end() : write(sseComment('ping'))), options.heartbeatMs);
  ready = true;
  await pull();
}
