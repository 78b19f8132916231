import type { Capability } from '../capability.ts';
import { leaderboardsMigrations } from './tables.ts';

export const leaderboards: Capability = {
  name: 'leaderboards',
  migrations: leaderboardsMigrations,
};
