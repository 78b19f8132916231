import type { Migration } from 'kysely';

/** This capability's tables (merged into engagement's database type). */
export type ReferralTables = Record<never, never>;

export const referralsMigrations: Record<string, Migration> = {};
