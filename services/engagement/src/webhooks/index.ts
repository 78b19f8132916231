import type { Capability } from '../capability.ts';
import { webhooksMigrations } from './tables.ts';

export const webhooks: Capability = {
  name: 'webhooks',
  migrations: webhooksMigrations,
};
