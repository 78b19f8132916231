import type { Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';

export interface UnlockedBadge {
  code: string;
  name: string;
  description: string;
  unlocked_at: Date;
}

/** The badges a user unlocked, oldest first. */
export async function unlockedBadges(_db: Kysely<EngagementDB>, _userId: string): Promise<UnlockedBadge[]> {
  return [];
}
