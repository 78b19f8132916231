import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type { CompanyInvitationsTable, IdentityDB } from './schema.ts';

export type InvitationRow = Selectable<CompanyInvitationsTable>;
/** An open invitation always has its address (a check constraint says so). */
export type OpenInvitationRow = InvitationRow & { email: string };

export async function insertInvitation(
  db: Kysely<IdentityDB>,
  row: Insertable<CompanyInvitationsTable> & { email: string },
): Promise<OpenInvitationRow> {
  return db
    .insertInto('company_invitations')
    .values(row)
    .returningAll()
    .$narrowType<{ email: string }>()
    .executeTakeFirstOrThrow();
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

/** Invitations the company sent `email` (any case) since `since`, whatever became of them. */
export async function countInvitationsTo(
  db: Kysely<IdentityDB>,
  companyId: string,
  email: string,
  since: Date,
): Promise<number> {
  const row = await db
    .selectFrom('company_invitations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .where('company_id', '=', companyId)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listOpenInvitations(
  db: Kysely<IdentityDB>,
  companyId: string,
  now: Date,
): Promise<OpenInvitationRow[]> {
  return db
    .selectFrom('company_invitations')
    .selectAll()
    .where('company_id', '=', companyId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('email', 'is not', null)
    .$narrowType<{ email: string }>()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** The company an invitation is for (never changes): to lock its members before the invitation. */
export async function companyOfInvitation(
  db: Kysely<IdentityDB>,
  tokenHash: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('company_invitations')
    .select('company_id')
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row?.company_id;
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

/**
 * For erasure: removes the address from every invitation the user accepted or that was sent to
 * their address (in any case), revoking those still open so nobody can take them later.
 * Returns how many invitations were scrubbed.
 */
export async function scrubInvitationsOf(
  db: Kysely<IdentityDB>,
  user: { id: string; email: string | null },
  now: Date,
): Promise<number> {
  const { email } = user;
  const result = await db
    .updateTable('company_invitations')
    .set({
      email: null,
      revoked_at: sql<Date | null>`case when accepted_at is null then coalesce(revoked_at, ${now}) else revoked_at end`,
    })
    .where((eb) =>
      eb.or([
        eb('accepted_by', '=', user.id),
        ...(email ? [eb(sql<string>`lower(email)`, '=', email.toLowerCase())] : []),
      ]),
    )
    .where('email', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
