import type { Migration } from 'kysely';

/** This capability's tables (merged into engagement's database type). */
export type WebhookTables = Record<never, never>;

export const webhooksMigrations: Record<string, Migration> = {};
