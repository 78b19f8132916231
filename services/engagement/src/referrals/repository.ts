import { after, type Position } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { Party } from './decide.ts';
import type { ReferralStatus } from './tables.ts';

type Db = Kysely<EngagementDB>;

export async function codeOf(db: Db, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('referral_codes')
    .select('code')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.code;
}

/** Inserts the user's code; false when the user or the code already has a row (the caller checks which). */
export async function insertCode(db: Db, userId: string, code: string, now: Date): Promise<boolean> {
  const row = await db
    .insertInto('referral_codes')
    .values({ user_id: userId, code, created_at: now })
    .onConflict((oc) => oc.doNothing())
    .returning('user_id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function deleteCode(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('referral_codes').where('user_id', '=', userId).execute();
}

/** A code's owner as the users read model knows them (active when identity has not said otherwise). */
export async function ownerOfCode(db: Db, code: string): Promise<Party | undefined> {
  const row = await db
    .selectFrom('referral_codes as c')
    .leftJoin('users as u', 'u.user_id', 'c.user_id')
    .select(['c.user_id', 'u.role', 'u.status'])
    .where('c.code', '=', code)
    .executeTakeFirst();
  return row ? { id: row.user_id, role: row.role ?? null, status: row.status ?? 'active' } : undefined;
}

export async function party(db: Db, userId: string): Promise<Party | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['user_id', 'role', 'status'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { id: row.user_id, role: row.role, status: row.status } : undefined;
}

export interface NewReferral {
  id: string;
  referrer_id: string;
  referred_user_id: string;
  level: 1 | 2;
  status: 'pending' | 'rejected';
  reason_code: string | null;
  created_at: Date;
}

/** Records a referral unless the user already has one of that level (the first one stands). */
export async function insertReferral(db: Db, referral: NewReferral): Promise<boolean> {
  const row = await db
    .insertInto('referrals')
    .values(referral)
    .onConflict((oc) => oc.columns(['referred_user_id', 'level']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Who referred a user at level 1, unless that referral was rejected. */
export async function referrerOf(db: Db, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('referrals')
    .select('referrer_id')
    .where('referred_user_id', '=', userId)
    .where('level', '=', 1)
    .where('status', '<>', 'rejected')
    .executeTakeFirst();
  return row?.referrer_id;
}

export async function hasPendingReferral(db: Db, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('referrals')
    .select('id')
    .where('referred_user_id', '=', userId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row !== undefined;
}

/** Records that a submission counted toward the user's referrals; false when it already had. */
export async function countApprovalOnce(db: Db, userId: string, submissionId: string): Promise<boolean> {
  const row = await db
    .insertInto('referral_counted_causes')
    .values({ referred_user_id: userId, submission_id: submissionId })
    .onConflict((oc) => oc.columns(['referred_user_id', 'submission_id']).doNothing())
    .returning('submission_id')
    .executeTakeFirst();
  return row !== undefined;
}

export interface PendingReferral {
  id: string;
  referrer_id: string;
  level: 1 | 2;
  status: ReferralStatus;
  approvals: number;
}

/** One more approval on each of the user's pending referrals; answers them as they now stand. */
export async function addApproval(db: Db, userId: string): Promise<PendingReferral[]> {
  return db
    .updateTable('referrals')
    .set({ approvals: sql<number>`approvals + 1` })
    .where('referred_user_id', '=', userId)
    .where('status', '=', 'pending')
    .returning(['id', 'referrer_id', 'level', 'status', 'approvals'])
    .execute();
}

/** Marks a referral qualified; true only for the one call that did it. */
export async function qualifyOnce(db: Db, referralId: string, at: Date): Promise<boolean> {
  const row = await db
    .updateTable('referrals')
    .set({ status: 'qualified', qualified_at: at })
    .where('id', '=', referralId)
    .where('status', '=', 'pending')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Rejects the pending referrals where the user is on one side. */
export async function rejectPending(
  db: Db,
  side: 'referred_user_id' | 'referrer_id',
  userId: string,
  reasonCode: string,
): Promise<void> {
  await db
    .updateTable('referrals')
    .set({ status: 'rejected', reason_code: reasonCode })
    .where(side, '=', userId)
    .where('status', '=', 'pending')
    .execute();
}

export async function forgetCountedApprovals(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('referral_counted_causes').where('referred_user_id', '=', userId).execute();
}

export interface ReferralView {
  id: string;
  level: 1 | 2;
  status: ReferralStatus;
  reason_code: string | null;
  approvals: number;
  created_at: Date;
  qualified_at: Date | null;
}

/** The referrals a user made, newest first (never whom they referred). */
export async function referralsBy(
  db: Db,
  referrerId: string,
  page: { after?: Position; limit: number },
): Promise<ReferralView[]> {
  let query = db
    .selectFrom('referrals')
    .select(['id', 'level', 'status', 'reason_code', 'approvals', 'created_at', 'qualified_at'])
    .where('referrer_id', '=', referrerId);
  if (page.after) query = query.where(after(page.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}
