import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { userFacts } from '../users/repository.ts';
import { nextAnnouncementId, nextNotificationId } from './order.ts';
import type { Announcement } from './repository.ts';
import type { NotificationKind } from './texts.ts';

/** The channel open streams hear commits on; payloads name who and which row, never content. */
export const NOTIFICATIONS_CHANNEL = 'engagement_notifications';

/** What ends streams: a user suspended or erased, or a session revoked (`endStreams`). */
export type StreamEnd = { userId: string } | { sessionId: string };

/** The NOTIFY payload that ends every open stream of a user or a session, on every instance. */
export function endPayload(end: StreamEnd): string {
  return JSON.stringify(
    'userId' in end ? { end_user: end.userId.toLowerCase() } : { end_session: end.sessionId.toLowerCase() },
  );
}

export interface Notice {
  userId: string;
  /** One of `NotificationKind`, or another capability's own. */
  kind: NotificationKind | (string & {});
  title: string;
  body: string;
  data: Record<string, unknown>;
  /** What caused it: the same cause notifies a user once. */
  sourceKey: string;
}

/**
 * Tells a user something, once per `sourceKey`, inside the caller's transaction: open streams hear
 * of it only after that transaction commits (NOTIFY is transactional). An erased user is told
 * nothing. Answers the new notification's id, or null when there was nothing new to tell.
 */
export async function notify(
  trx: Kysely<EngagementDB>,
  notice: Notice,
  now: Date = new Date(),
): Promise<string | null> {
  const userId = notice.userId.toLowerCase();
  if ((await userFacts(trx, userId))?.status === 'erased') return null;
  const id = await nextNotificationId(trx, userId);
  const inserted = await trx
    .insertInto('notifications')
    .values({
      id,
      user_id: userId,
      kind: notice.kind,
      title: notice.title,
      body: notice.body,
      data: JSON.stringify(notice.data),
      source_key: notice.sourceKey,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['user_id', 'source_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return null;
  await sql`select pg_notify(${NOTIFICATIONS_CHANNEL}, ${JSON.stringify({ user_id: userId, id })})`.execute(
    trx,
  );
  return id;
}

/**
 * Stores an announcement once (inside the caller's transaction) and wakes every open stream it may
 * reach after commit.
 */
export async function announce(
  trx: Kysely<EngagementDB>,
  draft: Omit<Announcement, 'id'>,
): Promise<Announcement> {
  const announcement = { ...draft, id: await nextAnnouncementId(trx) };
  await trx.insertInto('announcements').values(announcement).execute();
  const payload = JSON.stringify({ audience: announcement.audience, id: announcement.id });
  await sql`select pg_notify(${NOTIFICATIONS_CHANNEL}, ${payload})`.execute(trx);
  return announcement;
}

/**
 * Ends, after commit and on every instance, the open streams of a user (suspended, erased) or of a
 * session (revoked: logout, refresh-token reuse, password reset). The client's reconnect then needs
 * a token that is still good.
 */
export async function endStreams(trx: Kysely<EngagementDB>, end: StreamEnd): Promise<void> {
  await sql`select pg_notify(${NOTIFICATIONS_CHANNEL}, ${endPayload(end)})`.execute(trx);
}
