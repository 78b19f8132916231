import type { Capability } from '../capability.ts';
import { badgesMigrations } from './tables.ts';

export { type UnlockedBadge, unlockedBadges } from './unlocked.ts';

export const badges: Capability = {
  name: 'badges',
  migrations: badgesMigrations,
};
