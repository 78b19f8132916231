import {
  type HttpApp,
  idempotencyHeaders,
  idParams,
  isRevoked,
  isUuid,
  limitParam,
  opaqueCursor,
  paginate,
  principalOf,
  refusal,
  refuse,
  requireRole,
  runOnce,
  safeText,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import { personOf, userStatus } from '../users/index.ts';
import { audiences } from './audience.ts';
import { NotificationHub } from './hub.ts';
import { announce } from './notify.ts';
import {
  type Announcement,
  itemById,
  listAnnouncements,
  listItems,
  markAllRead,
  markRead,
  readerOf,
  unreadCount,
} from './repository.ts';
import { presentItem, runStream } from './stream.ts';

const tags = ['notifications'];
const adminTags = ['notifications (admin)'];
const security = [{ bearerAuth: [] }];

/** Lists are ordered by id (UUIDv7, newest first): the cursor is the last id shown. */
const idCursor = opaqueCursor(z.strictObject({ before: z.string().refine(isUuid) }));
const cursorOf = (last: { id: string }) => idCursor.encode({ before: last.id });

const itemSchema = z.object({
  id: z.uuid(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  created_at: timestamp,
  read_at: timestamp.nullable(),
});

const announcementSchema = z.object({
  id: z.uuid(),
  audience: z.enum(audiences),
  title: z.string(),
  body: z.string(),
  created_by: z.uuid().nullable(),
  created_at: timestamp,
});

const presentAnnouncement = (announcement: Announcement) => ({
  ...announcement,
  created_at: announcement.created_at.toISOString(),
});

const announcementBody = z.strictObject({
  audience: z.enum(audiences),
  title: safeText(120).pipe(z.string().min(1)),
  body: safeText(5_000, { multiline: true }).pipe(z.string().min(1)),
});

/**
 * When the (already verified) bearer token expires, in ms since the epoch: its `exp` claim. The
 * principal does not carry it; the token's payload is read again, never trusted before verification.
 */
export function tokenExpiry(authorization: string | undefined): number | undefined {
  const payload = /^Bearer [^.]+\.([^.]+)\./.exec(authorization ?? '')?.[1];
  if (!payload) return undefined;
  try {
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Lists, marks read, streams (SSE) and announcements; the hub closes every stream with the app. */
export function notificationRoutes(app: HttpApp, { db, clock, config, logger }: EngagementContext): void {
  const hub = new NotificationHub({
    databaseUrl: config.DATABASE_URL,
    logger: logger.child({ component: 'notification-hub' }),
    retryMs: config.ENGAGEMENT_NOTIFICATION_LISTEN_RETRY_MS,
  });
  // Open streams never end by themselves: without this, closing the server would wait for them.
  app.addHook('preClose', async () => {
    await hub.close();
  });

  const readerOfRequest = (request: Parameters<typeof personOf>[0]) =>
    readerOf(db, personOf(request), principalOf(request).role);

  app.get(
    '/api/v1/notifications',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Your notifications and the announcements that reach you, newest first',
        description:
          'Announcements (kind `announcement`) reach you when their audience is `all` or your role ' +
          '(`contributors`, `companies`) and they were made after you registered. `unread_count` counts ' +
          'everything unread, whatever the filter.',
        security,
        querystring: z.strictObject({
          unread: z
            .enum(['true', 'false'])
            .optional()
            .transform((value) => value === 'true'),
          cursor: idCursor.param.optional(),
          limit: limitParam(),
        }),
        response: {
          200: z.object({
            notifications: z.array(itemSchema),
            next_cursor: z.string().nullable(),
            unread_count: z.number().int().nonnegative(),
          }),
        },
      },
    },
    async (request) => {
      const reader = await readerOfRequest(request);
      const { unread, cursor, limit } = request.query;
      const rows = await listItems(db, reader, {
        unread,
        ...(cursor ? { before: cursor.before.toLowerCase() } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit, cursorOf);
      return {
        notifications: page.map(presentItem),
        next_cursor: next,
        unread_count: await unreadCount(db, reader),
      };
    },
  );

  app.get(
    '/api/v1/notifications/stream',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Your notifications as they happen (Server-Sent Events; 429 TOO_MANY_STREAMS)',
        description:
          'A `text/event-stream`: each notification is an event `notification` whose `id` is the ' +
          "notification's id and whose data is a list item. A `: ping` comment comes every " +
          'ENGAGEMENT_NOTIFICATION_HEARTBEAT_MS. Reconnect with `Last-Event-ID` (or `last_event_id`) set ' +
          'to the last id you received to get everything after it, in order, then the live ones; ' +
          'without it only what happens from now on is sent, so pass the newest id of ' +
          '`GET /api/v1/notifications` to close the gap between the list and the stream. The token goes ' +
          'in the Authorization header only (tokens in URLs end up in logs): use a fetch-based ' +
          'EventSource client. The stream ends when the token expires (reconnect with a fresh one and ' +
          '`Last-Event-ID`), when its session is revoked (logout) and when the account is suspended or ' +
          'erased; 403 ACCOUNT_NOT_ACTIVE to a suspended or erased account.',
        security,
        headers: z.looseObject({ 'last-event-id': uuidParam.optional() }),
        querystring: z.strictObject({ last_event_id: uuidParam.optional() }),
        response: { 200: z.string().describe('text/event-stream') },
      },
    },
    async (request, reply) => {
      const reader = await readerOfRequest(request);
      const { sessionId } = principalOf(request);
      const standing = async (): Promise<'allowed' | 'revoked' | 'not_active'> => {
        const user = await userStatus(db, reader.userId);
        if (user?.status === 'suspended' || user?.status === 'erased') return 'not_active';
        if (sessionId !== undefined && (await isRevoked(db, 'session', sessionId.toLowerCase())))
          return 'revoked';
        return 'allowed';
      };
      const stillAllowed = async () => (await standing()) === 'allowed';
      const now = await standing();
      // The kit's own check may have let the token in on an answer it cached (up to 250 ms) before the
      // revocation: the same answer it gives once it knows.
      if (now === 'revoked')
        throw refuse.unauthenticated('TOKEN_REVOKED', 'This session was revoked; sign in again.');
      if (now === 'not_active') {
        throw refuse.forbidden('This account cannot receive notifications now.', 'ACCOUNT_NOT_ACTIVE');
      }
      try {
        await hub.listening();
      } catch (error) {
        request.log.warn({ err: error }, 'notification stream refused: cannot LISTEN');
        throw refuse.unavailable(
          'NOTIFICATIONS_UNAVAILABLE',
          'Live notifications are unavailable; retry shortly.',
        );
      }
      const max = config.ENGAGEMENT_NOTIFICATION_MAX_STREAMS_PER_USER;
      if (hub.streamsOf(reader.userId) >= max) {
        throw refusal(
          'rate_limited',
          'TOO_MANY_STREAMS',
          `You have ${max} notification streams open; close one (one per tab or device is enough).`,
        );
      }
      // From here on the response is ours to write; runStream registers the stream synchronously,
      // so the count above cannot be overtaken by another request.
      reply.hijack();
      runStream(reply.raw, {
        db,
        hub,
        logger: request.log,
        reader,
        lastEventId: request.headers['last-event-id'] ?? request.query.last_event_id,
        heartbeatMs: config.ENGAGEMENT_NOTIFICATION_HEARTBEAT_MS,
        requestId: request.id,
        sessionId,
        expiresAt: tokenExpiry(request.headers.authorization),
        clock,
        stillAllowed,
      }).catch((error: unknown) => {
        request.log.error({ err: error }, 'notification stream failed');
        reply.raw.destroy();
      });
      return reply;
    },
  );

  app.post(
    '/api/v1/notifications/:id/read',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Mark one notification or announcement read (idempotent; 404 NOTIFICATION_NOT_FOUND)',
        security,
        params: idParams,
        response: { 200: z.object({ notification: itemSchema }) },
      },
    },
    async (request) => {
      const reader = await readerOfRequest(request);
      const { id } = request.params;
      const marked = await markRead(db, reader, id, clock());
      const item = marked ? await itemById(db, reader, id) : undefined;
      if (!item) throw refuse.notFound('You have no notification with this id.', 'NOTIFICATION_NOT_FOUND');
      return { notification: presentItem(item) };
    },
  );

  app.post(
    '/api/v1/notifications/read-all',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Mark all your notifications and announcements read',
        security,
        response: { 200: z.object({ marked: z.number().int().nonnegative() }) },
      },
    },
    async (request) => ({ marked: await markAllRead(db, await readerOfRequest(request), clock()) }),
  );

  app.post(
    '/api/v1/admin/announcements',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Announce something to contributors, companies or everyone',
        description:
          'Stored once, not copied per user: it shows in the list and the stream of everyone in its ' +
          'audience who registered before it.',
        security,
        headers: idempotencyHeaders,
        body: announcementBody,
        response: { 201: z.object({ announcement: announcementSchema }) },
      },
    },
    async (request, reply) => {
      const admin = principalOf(request).userId.toLowerCase();
      const now = clock();
      const call = {
        principalId: admin,
        operation: 'create-announcement',
        key: request.headers['idempotency-key'],
        body: request.body,
      };
      const created = await runOnce(db, call, now, 201, async (trx) => ({
        announcement: presentAnnouncement(
          await announce(trx, { ...request.body, created_by: isUuid(admin) ? admin : null, created_at: now }),
        ),
      }));
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/admin/announcements',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Every announcement, newest first',
        security,
        querystring: z.strictObject({ cursor: idCursor.param.optional(), limit: limitParam() }),
        response: {
          200: z.object({ announcements: z.array(announcementSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      const rows = await listAnnouncements(db, {
        ...(cursor ? { before: cursor.before.toLowerCase() } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit, cursorOf);
      return { announcements: page.map(presentAnnouncement), next_cursor: next };
    },
  );
}
