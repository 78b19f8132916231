import type { TesseraEvent } from '@tessera/contracts';
import { idsNamedBy } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { EngagementDB } from '../db/schema.ts';

/*
 * Streams resume from the last id a client saw ("everything after X"), so a user's notifications
 * and the announcements that reach them must get ids in the order they COMMIT, or a row with a
 * smaller id committed late would fall behind a client's position and never be sent. UUIDv7 alone
 * orders by when an id was made, not when its transaction committed (three consumers write
 * notifications concurrently), so ids are allocated under transaction-scoped advisory locks:
 *
 * - a notification takes its user's lock (exclusive) and the announcements lock (shared),
 * - an announcement takes the announcements lock (exclusive),
 *
 * and then picks a UUIDv7 above every id it can see that it must follow. Whoever holds a lock
 * keeps it until commit, so the next writer sees its row and picks a larger id.
 *
 * A consumer's batch notifies many users, and its handlers lock their standings too, in event
 * order: two batches meeting two users in opposite orders deadlocked (Postgres aborts one after a
 * second and its events are applied again one by one). So the consumers take every user lock of a
 * batch first, sorted (`lockUsersOf`); the handlers then find them held by their own transaction.
 */
const LOCK_CLASS_USER = 0x4e4f5455; // 'NOTU'
const LOCK_CLASS_ANNOUNCEMENTS = 0x4e4f5441; // 'NOTA'

type Db = Kysely<EngagementDB>;

/** A UUIDv7 greater than `floor`: the fresh one, or one a millisecond after the floor's time. */
export function idAbove(floor: string | null, fresh: string = uuidv7()): string {
  if (floor === null || fresh.toLowerCase() > floor.toLowerCase()) return fresh;
  return uuidv7({ msecs: timeOf(floor) + 1 });
}

/** The millisecond timestamp of a UUIDv7. */
export function timeOf(id: string): number {
  return Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** The fields of an event's data that name the users its handlers act for. */
const USER_FIELDS = ['user_id', 'contributor_id', 'judge_id'] as const;

/** A consumer's `lockFirst`: the user locks of every user a batch's events name, in key order. */
export async function lockUsersOf(trx: Db, events: readonly TesseraEvent[]): Promise<void> {
  const users = idsNamedBy(events, USER_FIELDS);
  if (users.length === 0) return;
  // In nextNotificationId's order: the announcements (shared), then the users. The subquery's order
  // is the order the aggregate takes them in (a sorted subquery is not flattened into its parent).
  await sql`select pg_advisory_xact_lock_shared(${LOCK_CLASS_ANNOUNCEMENTS}::int, 0)`.execute(trx);
  await sql`select count(pg_advisory_xact_lock(${LOCK_CLASS_USER}::int, key))
            from (select distinct hashtext(u) as key from unnest(${users}::text[]) as u order by key) as sorted`.execute(
    trx,
  );
}

/** Locks this user's notification order for the rest of `trx` and answers the next id. */
export async function nextNotificationId(trx: Db, userId: string): Promise<string> {
  await sql`select pg_advisory_xact_lock_shared(${LOCK_CLASS_ANNOUNCEMENTS}::int, 0),
                   pg_advisory_xact_lock(${LOCK_CLASS_USER}::int, hashtext(${userId}))`.execute(trx);
  const { rows } = await sql<{ floor: string | null }>`
    select greatest(
      (select id from notifications where user_id = ${userId} order by id desc limit 1),
      (select id from announcements order by id desc limit 1)
    )::text as floor`.execute(trx);
  return idAbove(rows[0]?.floor ?? null);
}

/** Locks every order for the rest of `trx` and answers the next announcement id. */
export async function nextAnnouncementId(trx: Db): Promise<string> {
  await sql`select pg_advisory_xact_lock(${LOCK_CLASS_ANNOUNCEMENTS}::int, 0)`.execute(trx);
  const { rows } = await sql<{ floor: string | null }>`
    select greatest(
      (select id from notifications order by id desc limit 1),
      (select id from announcements order by id desc limit 1)
    )::text as floor`.execute(trx);
  return idAbove(rows[0]?.floor ?? null);
}
