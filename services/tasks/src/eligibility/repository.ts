import { isUuid } from '@tessera/service-kit';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { ContributorsTable, TasksDB } from '../db/schema.ts';
import { type ContributorStanding, defaultStanding } from './decide.ts';

type Db = Kysely<TasksDB>;

/**
 * What eligibility knows of a user (the `contributors` read model), or the defaults when the read
 * model has not heard of them yet (or the id is not a user's).
 */
export async function standingOf(db: Db, userId: string): Promise<ContributorStanding> {
  if (!isUuid(userId)) return defaultStanding;
  const row = await db
    .selectFrom('contributors')
    .select(['status', 'level', 'trust_score', 'languages', 'country'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return standingFrom(row);
}

/** A read-model row as eligibility sees it; the defaults when there is none. */
export function standingFrom(
  row:
    | Pick<Selectable<ContributorsTable>, 'status' | 'level' | 'trust_score' | 'languages' | 'country'>
    | undefined,
): ContributorStanding {
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

// ---- the read model, from identity's and engagement's events --------------------------------------
// Each value keeps the time of the event it reflects, per source, and an older event handled late
// (after a retry) never overwrites a newer one. Erasure is final: nothing revives an erased user.

/** A row for a user the read model has not heard of: the defaults eligibility assumes. */
function newContributor(userId: string) {
  return {
    user_id: userId,
    status: defaultStanding.status,
    level: defaultStanding.level,
    trust_score: defaultStanding.trust_score,
  };
}

/**
 * Makes sure the read model has a row for the user, with the defaults eligibility assumes and no
 * event times (so any event still applies over it). A claim takes the row `for share` to decide on
 * the standing under a lock a suspension or an erasure must wait for (assignments/repository.ts
 * `findLockedClaim`): without a row there would be nothing to lock, and a suspension inserting the
 * row meanwhile would neither wait for the claim nor see it. Inserting waits for such an
 * uncommitted insert, and one that comes after waits for the claim's.
 */
export async function ensureContributor(trx: Db, userId: string): Promise<void> {
  await trx
    .insertInto('contributors')
    .values(newContributor(userId))
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
}

export async function writeProfile(
  trx: Db,
  userId: string,
  at: string,
  profile: { country: string | null; languages: string[] },
): Promise<void> {
  await trx
    .insertInto('contributors')
    .values({ ...newContributor(userId), ...profile, identity_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          country: eb.ref('excluded.country'),
          languages: eb.ref('excluded.languages'),
          identity_changed_at: eb.ref('excluded.identity_changed_at'),
        }))
        .where((eb) =>
          eb.and([
            eb('contributors.status', '!=', 'erased'),
            eb.or([
              eb('contributors.identity_changed_at', 'is', null),
              eb('contributors.identity_changed_at', '<=', eb.ref('excluded.identity_changed_at')),
            ]),
          ]),
        ),
    )
    .execute();
}

/** A role never changes, so a registration handled after a newer event still records it. */
export async function writeRoleOnce(trx: Db, userId: string, role: string): Promise<void> {
  await trx
    .updateTable('contributors')
    .set({ role })
    .where('user_id', '=', userId)
    .where('role', 'is', null)
    .execute();
}

/** Whether the status was written: not when the stored one is newer, or the person was erased. */
export async function writeStatus(
  trx: Db,
  userId: string,
  at: string,
  status: 'active' | 'suspended',
): Promise<boolean> {
  const written = await trx
    .insertInto('contributors')
    .values({ ...newContributor(userId), status, status_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          status_changed_at: eb.ref('excluded.status_changed_at'),
        }))
        .where((eb) =>
          eb.and([
            eb('contributors.status', '!=', 'erased'),
            eb.or([
              eb('contributors.status_changed_at', 'is', null),
              eb('contributors.status_changed_at', '<=', eb.ref('excluded.status_changed_at')),
            ]),
          ]),
        ),
    )
    .returning('user_id')
    .executeTakeFirst();
  return written !== undefined;
}

/**
 * Scrubs what the read model holds about a person; the row stays as a tombstone that makes every
 * later claim fail and keeps older events from reviving the user.
 */
export async function writeErasure(trx: Db, userId: string, at: string): Promise<void> {
  await trx
    .insertInto('contributors')
    .values({
      ...newContributor(userId),
      status: 'erased',
      country: null,
      languages: [],
      identity_changed_at: at,
      status_changed_at: at,
    })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        status: 'erased',
        country: null,
        languages: [],
        identity_changed_at: sql`greatest(contributors.identity_changed_at, excluded.identity_changed_at)`,
        status_changed_at: sql`greatest(contributors.status_changed_at, excluded.status_changed_at)`,
      }),
    )
    .execute();
}

export async function deleteInvitationsOf(trx: Db, userId: string): Promise<void> {
  await trx.deleteFrom('campaign_invitations').where('user_id', '=', userId).execute();
}

export async function writeLevel(trx: Db, userId: string, level: number, at: string): Promise<void> {
  await trx
    .insertInto('contributors')
    .values({ ...newContributor(userId), level, level_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          level: eb.ref('excluded.level'),
          level_changed_at: eb.ref('excluded.level_changed_at'),
        }))
        .where((eb) =>
          eb.or([
            eb('contributors.level_changed_at', 'is', null),
            eb('contributors.level_changed_at', '<=', eb.ref('excluded.level_changed_at')),
          ]),
        ),
    )
    .execute();
}

export async function writeTrust(trx: Db, userId: string, trustScore: number, at: string): Promise<void> {
  await trx
    .insertInto('contributors')
    .values({ ...newContributor(userId), trust_score: trustScore, trust_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          trust_score: eb.ref('excluded.trust_score'),
          trust_changed_at: eb.ref('excluded.trust_changed_at'),
        }))
        .where((eb) =>
          eb.or([
            eb('contributors.trust_changed_at', 'is', null),
            eb('contributors.trust_changed_at', '<=', eb.ref('excluded.trust_changed_at')),
          ]),
        ),
    )
    .execute();
}
