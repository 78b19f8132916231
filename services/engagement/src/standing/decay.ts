import { eachOnItsOwn, isDatabaseUnavailable, periodicJob, type Worker } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import type { EngagementContext } from '../context.ts';
import type { EngagementDB } from '../db/schema.ts';
import { awardXpToEach } from './award.ts';
import { dueForDecay, markDecayed } from './repository.ts';

/** The decay job's worker name (tests switch it off and call `decayXp` themselves). */
export const XP_DECAY_JOB = 'engagement-xp-decay';

const DAY_MS = 86_400_000;

/** What a day of decay takes: `percent` of the XP, rounded down. */
export function decayAmount(xp: number, percent: number): number {
  return Math.floor((xp * percent) / 100);
}

/**
 * XP decay: a user with no activity for ENGAGEMENT_DECAY_AFTER_DAYS loses
 * ENGAGEMENT_DECAY_PERCENT of their XP, once per UTC day of `now` while they stay away. The grant's
 * source id is `<user>:<UTC day>`, unique among XP entries, so however often the job runs or
 * restarts in a day, and on however many instances, a user decays once that day. Decay may lower
 * the level: awardXp publishes engagement.contributor.level-changed.v1 then, as for a rise.
 * Users are taken in batches, by user id: one transaction and a few statements per batch. A batch
 * that fails is done again one user at a time, so one bad row is logged and left for the next run
 * while the others decay (a batch rolled back at every run would stop decay for everyone after it).
 * Answers how many decayed.
 */
export async function decayXp(
  context: Pick<EngagementContext, 'db' | 'config' | 'logger' | 'metrics'>,
  now: Date,
): Promise<number> {
  const { config, db, logger, metrics } = context;
  const percent = config.ENGAGEMENT_DECAY_PERCENT;
  if (percent === 0) return 0;
  const cutoff = new Date(now.getTime() - config.ENGAGEMENT_DECAY_AFTER_DAYS * DAY_MS);
  const day = now.toISOString().slice(0, 10);
  const limit = config.ENGAGEMENT_DECAY_BATCH_SIZE;
  const decay = async (trx: Transaction<EngagementDB>, users: readonly { user_id: string; xp: number }[]) => {
    const applied = await awardXpToEach(
      trx,
      users.map((user) => ({
        userId: user.user_id,
        amount: -decayAmount(user.xp, percent),
        source: 'decay' as const,
        sourceId: `${user.user_id}:${day}`,
        at: now,
      })),
    );
    await markDecayed(
      trx,
      users.map((user) => user.user_id),
      day,
    );
    return applied.filter(Boolean).length;
  };
  let after: string | undefined;
  let decayed = 0;
  for (;;) {
    let due: { user_id: string; xp: number }[];
    try {
      const done = await db.transaction().execute(async (trx) => {
        const found = await dueForDecay(trx, { cutoff, day, percent, after, limit });
        return { found, count: await decay(trx, found) };
      });
      due = done.found;
      decayed += done.count;
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      // The same users, each in a transaction of its own that locks and reads them again.
      due = await dueForDecay(db, { cutoff, day, percent, after, limit });
      const counts = await eachOnItsOwn(
        due,
        (user) =>
          db.transaction().execute(async (trx) => {
            const still = await dueForDecay(trx, {
              cutoff,
              day,
              percent,
              after,
              limit: 1,
              only: user.user_id,
            });
            return decay(trx, still);
          }),
        {
          logger,
          message: "decaying a user's XP failed; the others go on",
          describe: (user) => ({ user_id: user.user_id }),
          counted: { job: XP_DECAY_JOB, metrics: metrics.jobs },
        },
      );
      decayed += counts.reduce((sum, n) => sum + n, 0);
    }
    if (due.length < limit) return decayed;
    after = due.at(-1)!.user_id;
  }
}

export function xpDecayWorker(context: EngagementContext): Worker {
  return periodicJob({
    name: XP_DECAY_JOB,
    intervalMs: context.config.ENGAGEMENT_DECAY_INTERVAL_MS,
    work: () => decayXp(context, context.clock()),
  });
}
