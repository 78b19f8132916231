import type { Migration } from 'kysely';

/** This capability's tables (merged into engagement's database type). */
export type MissionTables = Record<never, never>;

export const missionsMigrations: Record<string, Migration> = {};
