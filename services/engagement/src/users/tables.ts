import { type CompanyMembersTable, createCompanyMembersTable } from '@tessera/service-kit';
import type { ColumnType, Generated } from 'kysely';
import { type Kysely, type Migration, sql } from 'kysely';

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type UserStatus = 'active' | 'suspended' | 'erased';

/** Who a user is to engagement (from identity's events) and the time zone their days count in. */
export interface UsersTable {
  user_id: string;
  role: string | null;
  status: Generated<UserStatus>;
  /** IANA name; streaks and daily missions count days in it. */
  time_zone: Generated<string>;
  registered_at: NullableTimestamp;
  status_changed_at: NullableTimestamp;
  /** When the user last changed their time zone (null: never), for the one-change-a-day rule. */
  time_zone_changed_at: NullableTimestamp;
}

export interface UsersTables {
  users: UsersTable;
  company_members: CompanyMembersTable;
}

export const usersMigrations: Record<string, Migration> = {
  '0001_users': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table users (
          user_id uuid primary key,
          role text,
          status text not null default 'active' check (status in ('active', 'suspended', 'erased')),
          time_zone text not null default 'UTC',
          registered_at timestamptz,
          status_changed_at timestamptz
        )`.execute(db);
      await createCompanyMembersTable(db);
    },
  },
  '0930_time_zone_changed_at': {
    async up(db: Kysely<unknown>) {
      await sql`alter table users add column time_zone_changed_at timestamptz`.execute(db);
    },
  },
};
