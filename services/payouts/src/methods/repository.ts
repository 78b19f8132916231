import { isUuid, lockName } from '@tessera/service-kit';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { PayoutMethodsTable, PayoutsDB } from '../db/schema.ts';
import type { MethodState } from './decide.ts';

type Db = Kysely<PayoutsDB>;
type Row = Selectable<PayoutMethodsTable>;

/** Withdrawals that still need their method's details (the rest are final). */
export const OPEN_WITHDRAWAL_STATUSES = ['requested', 'pending_review', 'approved', 'processing'] as const;

/** A method as shown: never its details. */
export interface MethodRecord {
  id: string;
  userId: string;
  type: PayoutMethodsTable['type'];
  masked: string;
  usableFrom: Date;
  createdAt: Date;
}

const shown = ['id', 'user_id', 'type', 'masked', 'usable_from', 'created_at'] as const;

const toRecord = (row: Pick<Row, (typeof shown)[number]>): MethodRecord => ({
  id: row.id,
  userId: row.user_id,
  type: row.type,
  masked: row.masked,
  usableFrom: new Date(row.usable_from),
  createdAt: new Date(row.created_at),
});

const toState = (row: Pick<Row, 'id' | 'user_id' | 'type' | 'usable_from' | 'deleted_at'>): MethodState => ({
  id: row.id,
  userId: row.user_id,
  type: row.type,
  usableFrom: new Date(row.usable_from),
  deletedAt: row.deleted_at ? new Date(row.deleted_at) : null,
});

/**
 * Serializes the changes to one user's methods (adding, erasing) until the transaction ends, so
 * two racing adds cannot both count as the first method, and an erasure cannot miss a method
 * added beside it.
 */
export async function lockUserMethods(trx: Db, userId: string): Promise<void> {
  await lockName(trx, `payout-methods:${userId}`);
}

export async function countMethods(trx: Db, userId: string): Promise<{ active: number; everAdded: number }> {
  const row = await trx
    .selectFrom('payout_methods')
    .select([
      sql<number>`count(*) filter (where deleted_at is null)::int`.as('active'),
      sql<number>`count(*)::int`.as('ever_added'),
    ])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return { active: row.active, everAdded: row.ever_added };
}

export async function insertMethod(
  trx: Db,
  method: MethodRecord & { keyId: string; encryptedDetails: Buffer },
): Promise<void> {
  await trx
    .insertInto('payout_methods')
    .values({
      id: method.id,
      user_id: method.userId,
      type: method.type,
      masked: method.masked,
      key_id: method.keyId,
      encrypted_details: method.encryptedDetails,
      usable_from: method.usableFrom,
      created_at: method.createdAt,
      deleted_at: null,
    })
    .execute();
}

/** The user's methods (not deleted), newest first. */
export async function activeMethods(db: Db, userId: string): Promise<MethodRecord[]> {
  const rows = await db
    .selectFrom('payout_methods')
    .select(shown)
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toRecord);
}

/**
 * A method, locked: `update` to delete it; `share` while a withdrawal that names it is written (a
 * delete waits for that withdrawal to commit and then sees it; a withdrawal behind a delete finds
 * no method). Not-a-UUID ids find nothing.
 */
export async function lockMethod(
  trx: Db,
  id: string,
  mode: 'update' | 'share',
): Promise<MethodState | undefined> {
  if (!isUuid(id)) return undefined;
  const query = trx
    .selectFrom('payout_methods')
    .select(['id', 'user_id', 'type', 'usable_from', 'deleted_at'])
    .where('id', '=', id);
  const row = await (mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst();
  return row ? toState(row) : undefined;
}

export async function hasOpenWithdrawal(trx: Db, methodId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('withdrawals')
    .select('id')
    .where('method_id', '=', methodId)
    .where('status', 'in', OPEN_WITHDRAWAL_STATUSES)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Deleted: the row stays (withdrawals name it), masked, without its details or their key. */
export async function markDeleted(trx: Db, id: string, now: Date): Promise<void> {
  await trx
    .updateTable('payout_methods')
    .set({ deleted_at: now, encrypted_details: null, key_id: null })
    .where('id', '=', id)
    .execute();
}

/** What opening a method's details needs; undefined when there is no such method. */
export async function sealedMethod(
  db: Db,
  id: string,
): Promise<Pick<Row, 'id' | 'user_id' | 'type' | 'key_id' | 'encrypted_details' | 'deleted_at'> | undefined> {
  if (!isUuid(id)) return undefined;
  return db
    .selectFrom('payout_methods')
    .select(['id', 'user_id', 'type', 'key_id', 'encrypted_details', 'deleted_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}
