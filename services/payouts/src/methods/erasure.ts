import { type Kysely, sql } from 'kysely';
import type { PayoutsDB } from '../db/schema.ts';
import { lockUserMethods } from './repository.ts';

/**
 * A user's erasure deletes their payout methods' details (the rows stay, masked, for the
 * withdrawals that name them: a finance record, not personal data). It waits for a method being
 * added beside it (the user's methods lock), so that one is erased too; an add after it sees the
 * user erased and is refused. Run after `endWithdrawalsOnErasure` (withdrawals/handle.ts), in the
 * same transaction: a withdrawal that would still need the details to be sent is ended first.
 */
export async function eraseMethods(trx: Kysely<PayoutsDB>, userId: string, now: Date): Promise<void> {
  await lockUserMethods(trx, userId);
  await trx
    .updateTable('payout_methods')
    .set({
      encrypted_details: null,
      key_id: null,
      masked: '(erased)',
      deleted_at: sql<Date>`coalesce(deleted_at, ${now})`,
    })
    .where('user_id', '=', userId)
    .execute();
}
