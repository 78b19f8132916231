import type { Insertable, Kysely, Selectable } from 'kysely';
import type { CompanyInvitationsTable, IdentityDB } from './schema.ts';

export type InvitationRow = Selectable<CompanyInvitationsTable>;

export async function insertInvitation(
  db: Kysely<IdentityDB>,
  row: Insertable<CompanyInvitationsTable>,
): Promise<InvitationRow> {
  return db.insertInto('company_invitations').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function countOpenInvitations(
  db: Kysely<IdentityDB>,
  companyId: string,
  now: Date,
): Promise<number> {
  const row = await db
    .selectFrom('company_invitations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('company_id', '=', companyId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listOpenInvitations(
  db: Kysely<IdentityDB>,
  companyId: string,
  now: Date,
): Promise<InvitationRow[]> {
  return db
    .selectFrom('company_invitations')
    .selectAll()
    .where('company_id', '=', companyId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** The invitation behind a token, locked: two acceptances of one invitation serialize. */
export async function lockInvitationByToken(
  db: Kysely<IdentityDB>,
  tokenHash: string,
): Promise<InvitationRow | undefined> {
  return db
    .selectFrom('company_invitations')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function markAccepted(
  db: Kysely<IdentityDB>,
  id: string,
  userId: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('company_invitations')
    .set({ accepted_at: now, accepted_by: userId })
    .where('id', '=', id)
    .execute();
}

export async function revokeInvitation(
  db: Kysely<IdentityDB>,
  companyId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('company_invitations')
    .set({ revoked_at: now })
    .where('company_id', '=', companyId)
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
