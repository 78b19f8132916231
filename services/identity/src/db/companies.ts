import type { Insertable, Kysely, Selectable } from 'kysely';
import type { MemberRole } from '../domain/access.ts';
import type { CompaniesTable, IdentityDB } from './schema.ts';

export type CompanyRow = Selectable<CompaniesTable>;

export async function insertCompany(
  db: Kysely<IdentityDB>,
  row: Insertable<CompaniesTable>,
): Promise<CompanyRow> {
  return db.insertInto('companies').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findCompany(db: Kysely<IdentityDB>, id: string): Promise<CompanyRow | undefined> {
  return db.selectFrom('companies').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function companiesOf(
  db: Kysely<IdentityDB>,
  userId: string,
): Promise<Array<CompanyRow & { member_role: MemberRole }>> {
  return db
    .selectFrom('companies as c')
    .innerJoin('company_members as m', 'm.company_id', 'c.id')
    .selectAll('c')
    .select('m.member_role')
    .where('m.user_id', '=', userId)
    .orderBy('c.created_at')
    .orderBy('c.id')
    .execute();
}

export async function findMembership(
  db: Kysely<IdentityDB>,
  companyId: string,
  userId: string,
): Promise<{ memberRole: MemberRole } | undefined> {
  const row = await db
    .selectFrom('company_members')
    .select('member_role')
    .where('company_id', '=', companyId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row && { memberRole: row.member_role };
}

export interface MemberRow {
  user_id: string;
  member_role: MemberRole;
  added_at: Date;
  email: string | null;
  full_name: string | null;
}

/**
 * `lock` serializes member changes of one company (the last-manager rule reads them all). Whoever
 * takes it takes the account locks it needs first (erasure, acceptance, `lockedCompanyAccess`):
 * account, then company members, never the other way round.
 */
export async function listMembers(
  db: Kysely<IdentityDB>,
  companyId: string,
  options: { lock?: boolean } = {},
): Promise<MemberRow[]> {
  if (options.lock) {
    await db.selectFrom('companies').select('id').where('id', '=', companyId).forUpdate().execute();
  }
  return db
    .selectFrom('company_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'm.member_role', 'm.added_at', 'u.email', 'u.full_name'])
    .where('m.company_id', '=', companyId)
    .orderBy('m.added_at')
    .orderBy('m.user_id')
    .execute();
}

export async function upsertMember(
  db: Kysely<IdentityDB>,
  member: {
    company_id: string;
    user_id: string;
    member_role: MemberRole;
    added_by: string | null;
    added_at: Date;
  },
): Promise<void> {
  await db
    .insertInto('company_members')
    .values(member)
    .onConflict((oc) =>
      oc.columns(['company_id', 'user_id']).doUpdateSet({ member_role: member.member_role }),
    )
    .execute();
}

export async function deleteMember(
  db: Kysely<IdentityDB>,
  companyId: string,
  userId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('company_members')
    .where('company_id', '=', companyId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Every membership of a user, for erasure. */
export async function deleteMemberships(db: Kysely<IdentityDB>, userId: string): Promise<string[]> {
  const rows = await db
    .deleteFrom('company_members')
    .where('user_id', '=', userId)
    .returning('company_id')
    .execute();
  return rows.map((r) => r.company_id);
}
