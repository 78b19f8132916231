import { after, type Position } from '@tessera/service-kit';
import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { UserStatus } from '../domain/sessions.ts';
import type { IdentityDB, Role, UsersTable } from './schema.ts';

export type UserRow = Selectable<UsersTable>;

export async function insertUser(db: Kysely<IdentityDB>, row: Insertable<UsersTable>): Promise<UserRow> {
  return db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
}

/**
 * `forUpdate` locks the row against every other lock; `forNoKeyUpdate` against other updates and
 * `forUpdate` (suspension, erasure, password reset take that) but not against the key-share locks
 * of foreign-key checks (rows inserted that name the user), so it cannot deadlock with them.
 * `forKeyShare` is the lock such a foreign-key check takes: only `forUpdate` waits for it (and it
 * for `forUpdate`). A transaction that will insert a row naming the user takes it first, before
 * any company lock, in the order erasure takes them (the account, then its companies).
 */
export async function findUserById(
  db: Kysely<IdentityDB>,
  id: string,
  options: { forUpdate?: boolean; forNoKeyUpdate?: boolean; forKeyShare?: boolean } = {},
): Promise<UserRow | undefined> {
  let query = db.selectFrom('users').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  else if (options.forNoKeyUpdate) query = query.forNoKeyUpdate();
  else if (options.forKeyShare) query = query.forKeyShare();
  return query.executeTakeFirst();
}

export async function findUserByEmail(db: Kysely<IdentityDB>, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

export async function updateUser(
  db: Kysely<IdentityDB>,
  id: string,
  patch: Updateable<UsersTable>,
): Promise<UserRow> {
  return db.updateTable('users').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function adminExists(db: Kysely<IdentityDB>): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('status', '<>', 'erased')
    .executeTakeFirst();
  return row !== undefined;
}

export interface UserFilter {
  search?: string | undefined;
  role?: Role | undefined;
  status?: UserStatus | undefined;
  after?: Position | null | undefined;
  /** Rows to read: one more than the page, to know whether another page follows. */
  take: number;
}

export async function listUsers(db: Kysely<IdentityDB>, filter: UserFilter): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll();
  if (filter.role) query = query.where('role', '=', filter.role);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('email', 'ilike', pattern), eb('full_name', 'ilike', pattern)]));
  }
  if (filter.after) query = query.where(after(filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.take).execute();
}
