import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { UserStatus } from './tables.ts';

type Db = Kysely<EngagementDB>;

// The read model from identity's events. Status keeps the time of its event, so an older event
// handled late never wins; erasure is final.

export async function userRegistered(trx: Db, userId: string, role: string, at: string): Promise<void> {
  await trx
    .insertInto('users')
    .values({ user_id: userId, role, registered_at: at })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({ role, registered_at: at }).where('users.role', 'is', null),
    )
    .execute();
}

export async function statusChanged(trx: Db, userId: string, status: UserStatus, at: string): Promise<void> {
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
  await trx.updateTable('users').set({ time_zone: 'UTC' }).where('user_id', '=', userId).execute();
}

export async function setTimeZone(db: Db, userId: string, timeZone: string): Promise<void> {
  await db
    .insertInto('users')
    .values({ user_id: userId, time_zone: timeZone })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ time_zone: timeZone }))
    .execute();
}

/** The user's time zone: UTC until they set one. */
export async function timeZoneOf(db: Db, userId: string): Promise<string> {
  const row = await db
    .selectFrom('users')
    .select('time_zone')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.time_zone ?? 'UTC';
}

export async function userStatus(
  db: Db,
  userId: string,
): Promise<{ role: string | null; status: UserStatus } | undefined> {
  return db.selectFrom('users').select(['role', 'status']).where('user_id', '=', userId).executeTakeFirst();
}
