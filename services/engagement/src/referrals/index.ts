import type { Capability } from '../capability.ts';
import { referralsMigrations } from './tables.ts';

export const referrals: Capability = {
  name: 'referrals',
  migrations: referralsMigrations,
};
