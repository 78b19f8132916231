import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { type Audience, audiencesOf, type Reader } from './audience.ts';

type Db = Kysely<EngagementDB>;

/** One entry of a user's notifications: their own, or an announcement that reaches them. */
export interface NotificationItem {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
}

export interface Announcement {
  id: string;
  audience: Audience;
  title: string;
  body: string;
  created_by: string | null;
  created_at: Date;
}

/** Who `userId` is to announcements: their role (the read model's, else the token's) and registration. */
export async function readerOf(db: Db, userId: string, tokenRole: string): Promise<Reader> {
  const user = await db
    .selectFrom('users')
    .select(['role', 'registered_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return { userId, role: user?.role ?? tokenRole, registeredAt: user?.registered_at ?? null };
}

/** The reader's own rows and the announcements that reach them (`reaches` in audience.ts), as one list. */
function items(db: Db, reader: Reader) {
  const own = db
    .selectFrom('notifications as n')
    .where('n.user_id', '=', reader.userId)
    .select(['n.id', 'n.kind', 'n.title', 'n.body', 'n.data', 'n.created_at', 'n.read_at']);
  let announced = db
    .selectFrom('announcements as a')
    .leftJoin('announcement_reads as r', (join) =>
      join.onRef('r.announcement_id', '=', 'a.id').on('r.user_id', '=', reader.userId),
    )
    .where('a.audience', 'in', audiencesOf(reader.role))
    .select([
      'a.id',
      sql<string>`'announcement'`.as('kind'),
      'a.title',
      'a.body',
      sql<Record<string, unknown>>`jsonb_build_object('audience', a.audience)`.as('data'),
      'a.created_at',
      'r.read_at',
    ]);
  if (reader.registeredAt) announced = announced.where('a.created_at', '>=', reader.registeredAt);
  return db.selectFrom(own.unionAll(announced).as('items'));
}

function selectItems(query: ReturnType<typeof items>) {
  return query.select(['id', 'kind', 'title', 'body', 'data', 'created_at', 'read_at']);
}

/** Newest first, from before `before` (an id), unread only if asked. */
export async function listItems(
  db: Db,
  reader: Reader,
  options: { unread?: boolean; before?: string; limit: number },
): Promise<NotificationItem[]> {
  let query = selectItems(items(db, reader));
  if (options.unread) query = query.where('read_at', 'is', null);
  if (options.before) query = query.where('id', '<', options.before);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}

/** Oldest first, after `after` (an id): what a stream sends next. */
export async function itemsAfter(
  db: Db,
  reader: Reader,
  after: string,
  limit: number,
): Promise<NotificationItem[]> {
  return selectItems(items(db, reader)).where('id', '>', after).orderBy('id', 'asc').limit(limit).execute();
}

export async function itemById(db: Db, reader: Reader, id: string): Promise<NotificationItem | undefined> {
  return selectItems(items(db, reader)).where('id', '=', id).executeTakeFirst();
}

/** The newest id the reader has: where a stream without Last-Event-ID starts. */
export async function newestId(db: Db, reader: Reader): Promise<string | null> {
  const row = await items(db, reader).select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.id ?? null;
}

export async function unreadCount(db: Db, reader: Reader): Promise<number> {
  const row = await items(db, reader)
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Marks one item read (the first read time stays); false when the reader has no such item. */
export async function markRead(db: Db, reader: Reader, id: string, now: Date): Promise<boolean> {
  const own = await db
    .updateTable('notifications')
    .set({ read_at: sql`coalesce(read_at, ${now})` })
    .where('id', '=', id)
    .where('user_id', '=', reader.userId)
    .executeTakeFirst();
  if (own.numUpdatedRows > 0n) return true;
  const reaching = await itemById(db, reader, id);
  if (!reaching || reaching.kind !== 'announcement') return false;
  await db
    .insertInto('announcement_reads')
    .values({ announcement_id: id, user_id: reader.userId, read_at: now })
    .onConflict((oc) => oc.columns(['announcement_id', 'user_id']).doNothing())
    .execute();
  return true;
}

/** Marks everything of the reader read; answers how many were unread. */
export async function markAllRead(db: Db, reader: Reader, now: Date): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const own = await trx
      .updateTable('notifications')
      .set({ read_at: now })
      .where('user_id', '=', reader.userId)
      .where('read_at', 'is', null)
      .executeTakeFirst();
    const unreadAnnouncements = items(trx, reader)
      .select([
        'id',
        sql<string>`${reader.userId}::uuid`.as('user_id'),
        sql<Date>`${now}::timestamptz`.as('read_at'),
      ])
      .where('kind', '=', 'announcement')
      .where('read_at', 'is', null);
    const announced = await trx
      .insertInto('announcement_reads')
      .columns(['announcement_id', 'user_id', 'read_at'])
      .expression(unreadAnnouncements)
      .onConflict((oc) => oc.columns(['announcement_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(own.numUpdatedRows) + Number(announced.numInsertedOrUpdatedRows ?? 0n);
  });
}

/** Last level the user was told about (null when never). */
export async function lastToldLevel(db: Db, userId: string): Promise<number | null> {
  const row = await db
    .selectFrom('notifications')
    .select(sql<number>`(data->>'level')::int`.as('level'))
    .where('user_id', '=', userId)
    .where('kind', '=', 'level_changed')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.level ?? null;
}

export async function listAnnouncements(
  db: Db,
  options: { before?: string; limit: number },
): Promise<Announcement[]> {
  let query = db.selectFrom('announcements').selectAll();
  if (options.before) query = query.where('id', '<', options.before);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}

/** Erasure: the user's notifications and reads go; announcements they wrote lose their author. */
export async function eraseUser(trx: Db, userId: string): Promise<void> {
  await trx.deleteFrom('notifications').where('user_id', '=', userId).execute();
  await trx.deleteFrom('announcement_reads').where('user_id', '=', userId).execute();
  await trx.updateTable('announcements').set({ created_by: null }).where('created_by', '=', userId).execute();
}
