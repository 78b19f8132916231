import { idempotencyKeysMigration, type ServiceMigration } from '@tessera/service-kit';
import { capabilities } from '../capabilities.ts';

/** Engagement's tables: each capability's migrations (their names order them), then the kit's keys. */
export const engagementMigrations: Record<string, ServiceMigration> = {
  ...Object.fromEntries(capabilities.flatMap((capability) => Object.entries(capability.migrations ?? {}))),
  '0900_idempotency_keys': idempotencyKeysMigration,
};
