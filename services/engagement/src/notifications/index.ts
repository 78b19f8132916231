import type { Capability } from '../capability.ts';
import { notificationsMigrations } from './tables.ts';

export const notifications: Capability = {
  name: 'notifications',
  migrations: notificationsMigrations,
};
