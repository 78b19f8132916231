import type { Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';

export interface UnlockedBadge {
  code: string;
  name: string;
  description: string;
  unlocked_at: Date;
}

/** The badges a user unlocked, oldest first (a badge switched off since stays unlocked). */
export async function unlockedBadges(db: Kysely<EngagementDB>, userId: string): Promise<UnlockedBadge[]> {
  return db
    .selectFrom('user_badges')
    .innerJoin('badges', 'badges.id', 'user_badges.badge_id')
    .select(['badges.code', 'badges.name', 'badges.description', 'user_badges.unlocked_at'])
    .where('user_badges.user_id', '=', userId.toLowerCase())
    .orderBy('user_badges.unlocked_at')
    .orderBy('badges.code')
    .execute();
}
