import type { Migration } from 'kysely';

/** This capability's tables (merged into engagement's database type). */
export type StandingTables = Record<never, never>;

export const standingMigrations: Record<string, Migration> = {};
