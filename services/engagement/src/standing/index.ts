import type { Capability } from '../capability.ts';
import { standingMigrations } from './tables.ts';

export { awardXp, type XpApplied, type XpGrant, type XpSource } from './award.ts';
export { levelForXp, levelProgress, xpForLevel } from './levels.ts';

export const standing: Capability = {
  name: 'standing',
  migrations: standingMigrations,
};
