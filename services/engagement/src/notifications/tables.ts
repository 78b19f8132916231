import type { ColumnType, Migration } from 'kysely';
import { type Kysely, sql } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json = ColumnType<Record<string, unknown>, string, string>;

/** What one user was told, once per cause: `(user_id, source_key)` is unique. */
export interface NotificationsTable {
  /** UUIDv7, allocated in commit order per user (order.ts): streams resume from it. */
  id: string;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  data: Json;
  source_key: string;
  created_at: Timestamp;
  read_at: NullableTimestamp;
}

/** What an admin told a whole audience: stored once, never copied per user. */
export interface AnnouncementsTable {
  /** UUIDv7, ordered with every user's notifications (order.ts). */
  id: string;
  audience: 'contributors' | 'companies' | 'all';
  title: string;
  body: string;
  /** The admin who wrote it; null once they are erased. */
  created_by: string | null;
  created_at: Timestamp;
}

export interface AnnouncementReadsTable {
  announcement_id: string;
  user_id: string;
  read_at: Timestamp;
}

export interface NotificationTables {
  notifications: NotificationsTable;
  announcements: AnnouncementsTable;
  announcement_reads: AnnouncementReadsTable;
}

export const notificationsMigrations: Record<string, Migration> = {
  '0050_notifications': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table notifications (
          id uuid primary key,
          user_id uuid not null,
          kind text not null,
          title text not null,
          body text not null,
          data jsonb not null default '{}',
          source_key text not null,
          created_at timestamptz not null,
          read_at timestamptz,
          unique (user_id, source_key)
        )`.execute(db);
      await sql`create index notifications_user on notifications (user_id, id)`.execute(db);
      await sql`create index notifications_unread on notifications (user_id, id) where read_at is null`.execute(
        db,
      );
      await sql`
        create table announcements (
          id uuid primary key,
          audience text not null check (audience in ('contributors', 'companies', 'all')),
          title text not null,
          body text not null,
          created_by uuid,
          created_at timestamptz not null
        )`.execute(db);
      await sql`create index announcements_audience on announcements (audience, id)`.execute(db);
      await sql`
        create table announcement_reads (
          announcement_id uuid not null references announcements (id) on delete cascade,
          user_id uuid not null,
          read_at timestamptz not null,
          primary key (announcement_id, user_id)
        )`.execute(db);
      await sql`create index announcement_reads_user on announcement_reads (user_id)`.execute(db);
    },
  },
};
