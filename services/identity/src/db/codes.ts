import type { Kysely, Selectable } from 'kysely';
import type { CodePurpose } from '../domain/one-time-codes.ts';
import type { IdentityDB, OneTimeCodesTable } from './schema.ts';

export type CodeRow = Selectable<OneTimeCodesTable>;

/** A new code replaces the earlier unused ones of its kind: only the latest one works. */
export async function replaceCode(
  db: Kysely<IdentityDB>,
  code: Omit<CodeRow, 'attempts' | 'consumed_at'>,
): Promise<void> {
  await db
    .updateTable('one_time_codes')
    .set({ consumed_at: code.created_at })
    .where('user_id', '=', code.user_id)
    .where('purpose', '=', code.purpose)
    .where('consumed_at', 'is', null)
    .execute();
  await db.insertInto('one_time_codes').values(code).execute();
}

export async function recentSends(
  db: Kysely<IdentityDB>,
  userId: string,
  purpose: CodePurpose,
  since: Date,
): Promise<Date[]> {
  const rows = await db
    .selectFrom('one_time_codes')
    .select('created_at')
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('created_at', '>', since)
    .execute();
  return rows.map((r) => r.created_at);
}

export async function lockLatestCode(
  db: Kysely<IdentityDB>,
  userId: string,
  purpose: CodePurpose,
): Promise<CodeRow | undefined> {
  return db
    .selectFrom('one_time_codes')
    .selectAll()
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .orderBy('created_at', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
}

/**
 * The code with this hash. Read unlocked, it names the account to lock first; `lock` it only after
 * that account's lock (the service's order: the account, then its codes).
 */
export async function codeByHash(
  db: Kysely<IdentityDB>,
  purpose: CodePurpose,
  codeHash: string,
  options: { lock?: boolean } = {},
): Promise<CodeRow | undefined> {
  const select = db
    .selectFrom('one_time_codes')
    .selectAll()
    .where('purpose', '=', purpose)
    .where('code_hash', '=', codeHash);
  return (options.lock ? select.forUpdate() : select).executeTakeFirst();
}

export async function countAttempt(db: Kysely<IdentityDB>, id: string): Promise<void> {
  await db
    .updateTable('one_time_codes')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

export async function consumeCode(db: Kysely<IdentityDB>, id: string, now: Date): Promise<void> {
  await db.updateTable('one_time_codes').set({ consumed_at: now }).where('id', '=', id).execute();
}
