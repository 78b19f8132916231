import type { Kysely } from 'kysely';
import { type ContributorStanding, defaultStanding } from '../domain/eligibility.ts';
import type { TasksDB } from './schema.ts';

type Db = Kysely<TasksDB>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * What eligibility knows of a user (the `contributors` read model), or the defaults when the read
 * model has not heard of them yet (or the id is not a user's).
 */
export async function standingOf(db: Db, userId: string): Promise<ContributorStanding> {
  if (!UUID.test(userId)) return defaultStanding;
  const row = await db
    .selectFrom('contributors')
    .select(['status', 'level', 'trust_score', 'languages', 'country'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return defaultStanding;
  return {
    status: row.status,
    level: row.level,
    trust_score: Number(row.trust_score),
    languages: row.languages,
    country: row.country,
  };
}

/** Whether the user is invited to the (private) campaign. */
export async function isInvited(db: Db, campaignId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('campaign_invitations')
    .select('user_id')
    .where('campaign_id', '=', campaignId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}
