import type { Migration } from 'kysely';

/** This capability's tables (merged into engagement's database type). */
export type NotificationTables = Record<never, never>;

export const notificationsMigrations: Record<string, Migration> = {};
