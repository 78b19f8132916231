import type { Migration } from 'kysely';

/** This capability's tables (merged into engagement's database type). */
export type LeaderboardTables = Record<never, never>;

export const leaderboardsMigrations: Record<string, Migration> = {};
