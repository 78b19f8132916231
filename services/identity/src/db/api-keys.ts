import { appendToOutbox } from '@tessera/service-kit';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, IdentityDB } from './schema.ts';
import { principalRevoked } from './sessions.ts';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export async function insertApiKey(
  db: Kysely<IdentityDB>,
  row: Insertable<ApiKeysTable>,
): Promise<ApiKeyRow> {
  return db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function listApiKeys(db: Kysely<IdentityDB>, companyId: string): Promise<ApiKeyRow[]> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('company_id', '=', companyId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function countActiveApiKeys(db: Kysely<IdentityDB>, companyId: string): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('company_id', '=', companyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findApiKeyByPrefix(
  db: Kysely<IdentityDB>,
  prefix: string,
): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
}

/** Revokes a key and announces it (`identity.principal.revoked.v1`), so every service refuses its tokens. */
export async function revokeApiKey(
  db: Kysely<IdentityDB>,
  companyId: string,
  id: string,
  now: Date,
  accessTokenTtlS: number,
): Promise<ApiKeyRow | undefined> {
  const revoked = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('company_id', '=', companyId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (revoked) {
    await appendToOutbox(db, [
      principalRevoked({ kind: 'api_key', id, ownerId: companyId }, 'api_key_revoked', now, accessTokenTtlS),
    ]);
  }
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('company_id', '=', companyId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function touchApiKey(db: Kysely<IdentityDB>, id: string, now: Date): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
}
