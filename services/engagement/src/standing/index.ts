import type { Capability } from '../capability.ts';
import { standingMigrations } from './tables.ts';

export const standing: Capability = {
  name: 'standing',
  migrations: standingMigrations,
};
