import type { Capability } from '../capability.ts';
import { missionsMigrations } from './tables.ts';

export const missions: Capability = {
  name: 'missions',
  migrations: missionsMigrations,
};
