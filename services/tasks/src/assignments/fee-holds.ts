import { countedAndParked, eachOnItsOwn, type JobMetrics, type Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { lockCampaigns, reconcileCampaign } from '../campaigns/index.ts';
import type { TasksDB } from '../db/schema.ts';
import { applyTransition, dueFeeHolds, lockDueFeeHold } from './repository.ts';

/**
 * Frees what judged claims still hold for judge fees once the verdict's fees have had their time to
 * arrive (`fee_hold_until`, decide.ts `FEE_NEWS_GRACE_MS`): the judges who were asked but did not
 * count toward the verdict earn nothing. Until then the hold stays reserved, so no other claim is
 * promised it and an ended campaign does not announce its close (the ledger would return the escrow
 * its fees are paid from); freeing it re-decides the campaign, which may announce the close.
 * Each claim in its own short transaction (campaign locked first, then the claim), and one that
 * keeps failing is parked by its id without holding up the others. Returns how many were freed.
 */
export async function releaseUnusedFeeHolds(
  db: Kysely<TasksDB>,
  options: { now: Date; limit?: number; logger?: Logger; counted?: { job: string; metrics: JobMetrics } },
): Promise<number> {
  const { now } = options;
  const due = await dueFeeHolds(db, now, options.limit ?? 500, options.counted?.job);
  const freed = await eachOnItsOwn<{ id: string; campaign_id: string }, number>(
    due,
    (row) =>
      db.transaction().execute(async (trx) => {
        await lockCampaigns(trx, [row.campaign_id]);
        const assignment = await lockDueFeeHold(trx, row.id, now);
        if (!assignment) return 0;
        await applyTransition(trx, assignment, { kind: 'fees-unused' }, now);
        await reconcileCampaign(trx, assignment.campaign_id, now);
        return 1;
      }),
    {
      logger: options.logger,
      message: "freeing a judged claim's unused fee hold failed; the others go on",
      describe: (row) => ({ assignment_id: row.id, campaign_id: row.campaign_id }),
      ...countedAndParked(options.counted, db, (row: { id: string }) => row.id),
    },
  );
  return freed.reduce((sum, n) => sum + n, 0);
}
