import type { IdempotencyKeysTable, KitTables } from '@tessera/service-kit';
import type { ColumnType, Generated } from 'kysely';
import type { MemberRole } from '../domain/access.ts';
import type { CodePurpose } from '../domain/one-time-codes.ts';
import type { UserStatus } from '../domain/sessions.ts';

export type Role = 'contributor' | 'company' | 'admin';
type Timestamp = ColumnType<Date, Date, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;

export interface UsersTable {
  id: string;
  /** Null once erased. Unique case-insensitively (index on lower(email)). */
  email: string | null;
  password_hash: string | null;
  full_name: string | null;
  role: Role;
  status: UserStatus;
  suspension_reason: string | null;
  suspension_reason_code: string | null;
  email_verified_at: NullableTimestamp;
  bio: string | null;
  location: string | null;
  country: string | null;
  preferred_language: string | null;
  languages: ColumnType<string[], string[] | undefined, string[]>;
  avatar_url: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_login_at: NullableTimestamp;
  erased_at: NullableTimestamp;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: Timestamp;
  last_refreshed_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  issued_at: Timestamp;
  expires_at: Timestamp;
  rotated_at: NullableTimestamp;
}

export interface OneTimeCodesTable {
  id: string;
  user_id: string;
  purpose: CodePurpose;
  code_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  attempts: Generated<number>;
  consumed_at: NullableTimestamp;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  window_started_at: Timestamp;
  locked_until: NullableTimestamp;
  updated_at: Timestamp;
}

export interface SigningKeysTable {
  kid: string;
  public_jwk: ColumnType<Record<string, unknown>, string, string>;
  private_key_encrypted: string;
  created_at: Timestamp;
  activates_at: Timestamp;
  retired_at: NullableTimestamp;
}

export interface CompaniesTable {
  id: string;
  name: string;
  logo_url: string | null;
  billing_status: 'pending' | 'active' | 'past_due' | 'suspended';
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CompanyMembersTable {
  company_id: string;
  user_id: string;
  member_role: MemberRole;
  added_by: string | null;
  added_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  company_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: ColumnType<string[], string[], string[]>;
  created_by: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface CompanyInvitationsTable {
  id: string;
  company_id: string;
  /** The address invited, as typed; null once its owner erased the account (never while open). */
  email: string | null;
  member_role: MemberRole;
  token_hash: string;
  invited_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  accepted_at: NullableTimestamp;
  accepted_by: string | null;
  revoked_at: NullableTimestamp;
}

export interface DevMailboxTable {
  id: Generated<number>;
  recipient: string;
  subject: string;
  body: string;
  kind: string;
  created_at: Timestamp;
}

export interface IdentityDB extends KitTables {
  idempotency_keys: IdempotencyKeysTable;
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  one_time_codes: OneTimeCodesTable;
  login_throttle: LoginThrottleTable;
  signing_keys: SigningKeysTable;
  companies: CompaniesTable;
  company_members: CompanyMembersTable;
  api_keys: ApiKeysTable;
  company_invitations: CompanyInvitationsTable;
  dev_mailbox: DevMailboxTable;
}
