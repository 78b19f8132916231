import { isUuid } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { PayoutsDB } from '../db/schema.ts';

type Db = Kysely<PayoutsDB>;

/** What withdrawals need to know about a user; the defaults for one no event told us of yet. */
export interface UserStanding {
  status: 'active' | 'suspended' | 'erased';
  emailVerified: boolean;
  trustScore: number;
}

export const defaultStanding: UserStanding = { status: 'active', emailVerified: false, trustScore: 5 };

export async function standingOf(db: Db, userId: string): Promise<UserStanding> {
  if (!isUuid(userId)) return defaultStanding;
  const row = await db
    .selectFrom('users')
    .select(['status', 'email_verified', 'trust_score'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return defaultStanding;
  return { status: row.status, emailVerified: row.email_verified, trustScore: Number(row.trust_score) };
}

// ---- the read model, from identity's and engagement's events ------------------------------------
// Each source keeps the time of its event: an older event handled late never wins. Erasure is final.

const blank = (userId: string) => ({ user_id: userId, role: null, trust_score: defaultStanding.trustScore });

export async function userRegistered(trx: Db, userId: string, role: string): Promise<void> {
  await trx
    .insertInto('users')
    .values({ ...blank(userId), role })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ role }).where('users.role', 'is', null))
    .execute();
}

/** A verified email stays verified (identity never un-verifies one). */
export async function emailVerified(trx: Db, userId: string): Promise<void> {
  await trx
    .insertInto('users')
    .values({ ...blank(userId), email_verified: true })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ email_verified: true }))
    .execute();
}

/**
 * Records identity's word on a user's status, unless an event of a later time was recorded (or the
 * user erased). Answers whether it was recorded.
 */
export async function statusChanged(
  trx: Db,
  userId: string,
  status: 'active' | 'suspended' | 'erased',
  at: string,
): Promise<boolean> {
  const recorded = await trx
    .insertInto('users')
    .values({ ...blank(userId), status, status_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ status, status_changed_at: at })
        .where(sql<boolean>`users.status <> 'erased'`)
        .where(
          sql<boolean>`(users.status_changed_at is null or users.status_changed_at <= excluded.status_changed_at)`,
        ),
    )
    .returning('user_id')
    .executeTakeFirst();
  return recorded !== undefined;
}

export async function trustChanged(trx: Db, userId: string, trust: number, at: string): Promise<void> {
  await trx
    .insertInto('users')
    .values({ ...blank(userId), trust_score: trust, trust_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ trust_score: trust, trust_changed_at: at })
        .where(
          sql<boolean>`(users.trust_changed_at is null or users.trust_changed_at <= excluded.trust_changed_at)`,
        ),
    )
    .execute();
}
