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
}

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
 * Runs one notification stream on a hijacked response until the client leaves or the service
 * stops. Rows are read from the database after the last id sent, in id order (ids follow commit
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
  let unsubscribe = () => {};

  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    if (!response.headersSent) response.statusCode = 503;
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
          rows = await itemsAfter(db, reader, last, BATCH);
          for (const row of rows) {
            if (ended) return;
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

  response.on('close', end);
  if (response.destroyed) return end();
  // Subscribed before the starting point is read, so a commit in between wakes the stream. The
  // headers go out once the starting point is known: a client whose response opened is subscribed.
  unsubscribe = hub.add({ userId: reader.userId, role: reader.role, wake: () => void pull(), end });
  try {
    if (options.lastEventId === undefined) last = (await newestId(db, reader)) ?? NIL;
  } catch (error) {
    logger.warn({ err: error }, 'notification stream could not start');
    end();
    return;
  }
  if (ended) return;
  response.writeHead(200, { ...SSE_HEADERS, 'x-request-id': options.requestId });
  write(sseRetry(RECONNECT_AFTER_MS));
  heartbeat = setInterval(() => write(sseComment('ping')), options.heartbeatMs);
  ready = true;
  await pull();
}
