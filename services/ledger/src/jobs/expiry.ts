import {
  countedAndParked,
  eachOnItsOwn,
  type JobMetrics,
  type Logger,
  notParked,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { LedgerEngine } from '../engine/types.ts';
import type { ProjectionTables } from '../projections/schema.ts';

/**
 * Expires pending transfers past their expiry time, found through the `transfers` projection and
 * expired through the engine, which re-checks each against the stream and refuses what is no longer
 * pending or not yet due; two instances running this at once is harmless. Each transfer on its
 * own: one that throws does not hold up the others, and one that keeps throwing is parked (the kit's
 * parked-items.ts). Withdrawal holds have no
 * timeout and are never expired here.
 */
export async function expireDueTransfers(
  db: Kysely<ProjectionTables>,
  engine: LedgerEngine,
  logger: Logger,
  options: { now?: Date; limit?: number; counted?: { job: string; metrics: JobMetrics } } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const due = await db
    .selectFrom('transfers')
    .select('id')
    .where('state', '=', 'pending')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .$if(options.counted !== undefined, (q) => q.where(notParked(options.counted!.job, 'transfers.id')))
    .orderBy('expires_at')
    .limit(options.limit ?? 500)
    .execute();
  const expired = await eachOnItsOwn(
    due,
    async ({ id }): Promise<number> => {
      const outcome = await engine.expire(id, now);
      if (outcome.ok) return outcome.replayed ? 0 : 1;
      if (outcome.rejection.code !== 'PENDING_NOT_PENDING') {
        logger.warn({ transfer_id: id, rejection: outcome.rejection }, 'could not expire a pending transfer');
      }
      return 0;
    },
    {
      logger,
      message: 'expiring a pending transfer failed; the others go on',
      describe: ({ id }) => ({ transfer_id: id }),
      ...countedAndParked(options.counted, db, ({ id }) => id),
    },
  );
  return expired.reduce((sum, n) => sum + n, 0);
}
