import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { UserStatus } from './tables.ts';

type Db = Kysely<EngagementDB>;

// The read model from identity's events. Status keeps the time of its event, so an older event
// handled late never wins; erasure is final.

/** What the handlers ask of a user: their role, status and time zone (undefined: never heard of). */
export interface UserFacts {
  role: string | null;
  status: UserStatus;
  timeZone: string;
}

/**
 * The user rows a transaction has read, by user id. One approval reaches five capabilities in one
 * consumer transaction (standing, badges, missions, leaderboards, notifications), each asking who
 * the user is: they share one read. Only a transaction's reads are kept, and only for its life (the
 * consumer holds the user's lock meanwhile, `lockUsersOf`); every write below forgets the user.
 */
const memos = new WeakMap<object, Map<string, UserFacts | undefined>>();

function memoOf(db: Db): Map<string, UserFacts | undefined> | undefined {
  if (!db.isTransaction) return undefined;
  let memo = memos.get(db);
  if (!memo) {
    memo = new Map();
    memos.set(db, memo);
  }
  return memo;
}

// Keyed as the uuid column compares: an event's id in upper case is the same user.
function forget(db: Db, userId: string): void {
  memos.get(db)?.delete(userId.toLowerCase());
}

/** The user's role, status and time zone, read once per transaction. */
export async function userFacts(db: Db, userId: string): Promise<UserFacts | undefined> {
  const memo = memoOf(db);
  const key = userId.toLowerCase();
  if (memo?.has(key)) return memo.get(key);
  const row = await db
    .selectFrom('users')
    .select(['role', 'status', 'time_zone'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  const facts = row && { role: row.role, status: row.status, timeZone: row.time_zone };
  memo?.set(key, facts);
  return facts;
}

export async function userRegistered(trx: Db, userId: string, role: string, at: string): Promise<void> {
  forget(trx, userId);
  await trx
    .insertInto('users')
    .values({ user_id: userId, role, registered_at: at })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({ role, registered_at: at }).where('users.role', 'is', null),
    )
    .execute();
}

export async function statusChanged(trx: Db, userId: string, status: UserStatus, at: string): Promise<void> {
  forget(trx, userId);
  await trx
    .insertInto('users')
    .values({ user_id: userId, status, status_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ status, status_changed_at: at })
        .where(sql<boolean>`users.status <> 'erased'`)
        .where(
          sql<boolean>`(users.status_changed_at is null or users.status_changed_at <= excluded.status_changed_at)`,
        ),
    )
    .execute();
}

/** An erased user keeps no time zone (it hints at where they live). */
export async function userErased(trx: Db, userId: string, at: string): Promise<void> {
  await statusChanged(trx, userId, 'erased', at);
  forget(trx, userId);
  await trx.updateTable('users').set({ time_zone: 'UTC' }).where('user_id', '=', userId).execute();
}

export async function setTimeZone(db: Db, userId: string, timeZone: string): Promise<void> {
  forget(db, userId);
  await db
    .insertInto('users')
    .values({ user_id: userId, time_zone: timeZone })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ time_zone: timeZone }))
    .execute();
}

/** Least time between two changes of a user's time zone. */
export const TIME_ZONE_CHANGE_INTERVAL_MS = 24 * 3_600_000;

/**
 * The caller changes their time zone: at most once per `TIME_ZONE_CHANGE_INTERVAL_MS`, because
 * moving between zones around midnight would add streak days and daily missions' days. The first
 * choice is free, and naming the zone already set changes nothing (and is no change). One
 * conditional statement, so two requests at once cannot both change it.
 */
export async function changeTimeZone(
  db: Db,
  userId: string,
  timeZone: string,
  now: Date,
): Promise<
  { changed: true } | { changed: false; sameZone: true } | { changed: false; sameZone: false; nextAt: Date }
> {
  forget(db, userId);
  const since = new Date(now.getTime() - TIME_ZONE_CHANGE_INTERVAL_MS);
  const changed = await db
    .insertInto('users')
    .values({ user_id: userId, time_zone: timeZone, time_zone_changed_at: now })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ time_zone: timeZone, time_zone_changed_at: now })
        .where('users.time_zone', '<>', timeZone)
        .where((eb) =>
          eb.or([
            eb('users.time_zone_changed_at', 'is', null),
            eb('users.time_zone_changed_at', '<=', since),
          ]),
        ),
    )
    .returning('user_id')
    .executeTakeFirst();
  if (changed) return { changed: true };
  const row = await db
    .selectFrom('users')
    .select(['time_zone', 'time_zone_changed_at'])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  if (row.time_zone === timeZone) return { changed: false, sameZone: true };
  const last = row.time_zone_changed_at ?? now;
  return {
    changed: false,
    sameZone: false,
    nextAt: new Date(last.getTime() + TIME_ZONE_CHANGE_INTERVAL_MS),
  };
}

/** The user's time zone: UTC until they set one. */
export async function timeZoneOf(db: Db, userId: string): Promise<string> {
  return (await userFacts(db, userId))?.timeZone ?? 'UTC';
}

export async function userStatus(
  db: Db,
  userId: string,
): Promise<{ role: string | null; status: UserStatus } | undefined> {
  const facts = await userFacts(db, userId);
  return facts && { role: facts.role, status: facts.status };
}
