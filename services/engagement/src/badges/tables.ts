import type { Migration } from 'kysely';

/** This capability's tables (merged into engagement's database type). */
export type BadgeTables = Record<never, never>;

export const badgesMigrations: Record<string, Migration> = {};
