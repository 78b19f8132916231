import type { ColumnType, Generated } from 'kysely';
import { type Kysely, type Migration, sql } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type ReferralStatus = 'pending' | 'qualified' | 'rejected';

/** Each user's own referral code (contributors and admins; company users have none). */
export interface ReferralCodesTable {
  user_id: string;
  code: string;
  created_at: Timestamp;
}

/**
 * Who brought whom: level 1 is the owner of the code the user signed up with, level 2 (when
 * configured) that owner's own referrer. One per (referred user, level).
 */
export interface ReferralsTable {
  id: string;
  referrer_id: string;
  referred_user_id: string;
  level: 1 | 2;
  status: ReferralStatus;
  reason_code: string | null;
  approvals: Generated<number>;
  created_at: Timestamp;
  qualified_at: NullableTimestamp;
}

/** The referred user's approved submissions that counted toward their referrals: each once. */
export interface ReferralCountedCausesTable {
  referred_user_id: string;
  submission_id: string;
}

export interface ReferralTables {
  referral_codes: ReferralCodesTable;
  referrals: ReferralsTable;
  referral_counted_causes: ReferralCountedCausesTable;
}

export const referralsMigrations: Record<string, Migration> = {
  '0045_referrals': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table referral_codes (
          user_id uuid primary key,
          code text not null unique check (code ~ '^[A-Z0-9]{4,16}$'),
          created_at timestamptz not null
        )`.execute(db);
      await sql`
        create table referrals (
          id uuid primary key,
          referrer_id uuid not null,
          referred_user_id uuid not null,
          level smallint not null check (level in (1, 2)),
          status text not null check (status in ('pending', 'qualified', 'rejected')),
          reason_code text,
          approvals integer not null default 0 check (approvals >= 0),
          created_at timestamptz not null,
          qualified_at timestamptz,
          unique (referred_user_id, level),
          check ((status = 'qualified') = (qualified_at is not null))
        )`.execute(db);
      await sql`create index referrals_referrer on referrals (referrer_id, created_at desc)`.execute(db);
      await sql`
        create table referral_counted_causes (
          referred_user_id uuid not null,
          submission_id uuid not null,
          primary key (referred_user_id, submission_id)
        )`.execute(db);
    },
  },
};
