import type { TesseraEvent } from '@tessera/contracts';
import { countedAndParked, eachOnItsOwn, type JobMetrics, type Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { lockCampaigns, reconcileCampaign } from '../campaigns/index.ts';
import type { TasksDB } from '../db/schema.ts';
import { endClaim } from './handle.ts';
import { dueAssignments, inactiveContributors, lockDueAssignments } from './repository.ts';

/**
 * Frees the slots of claims past their expiry time, oldest first, up to `limit` per run. Each
 * campaign's expired claims end (`endClaim`) in one short transaction that locks the campaign,
 * then the due assignments (`for update skip locked`: a release, a submission or another instance of this job
 * holding one simply wins it) and re-decides the campaign once. One campaign per transaction keeps
 * claims on other campaigns flowing and means two instances can never wait on each other's
 * campaign locks in opposite orders, and one campaign that fails does not hold up the others (one
 * that keeps failing is parked, its claims left out: the kit's parked-items.ts).
 * Returns how many expired.
 */
export async function expireDueAssignments(
  db: Kysely<TasksDB>,
  options: { now: Date; limit?: number; logger?: Logger; counted?: { job: string; metrics: JobMetrics } },
): Promise<number> {
  const { now } = options;
  const due = await dueAssignments(db, now, options.limit ?? 500, options.counted?.job);
  const byCampaign = new Map<string, string[]>();
  for (const row of due) {
    const ids = byCampaign.get(row.campaign_id) ?? [];
    ids.push(row.id);
    byCampaign.set(row.campaign_id, ids);
  }

  const expired = await eachOnItsOwn(
    byCampaign,
    ([campaignId, ids]) =>
      db.transaction().execute(async (trx) => {
        await lockCampaigns(trx, [campaignId]);
        const locked = await lockDueAssignments(trx, ids, now);
        if (locked.length === 0) return 0;
        // Claims of suspended or erased contributors were made due by the identity consumer.
        const inactive = await inactiveContributors(
          trx,
          locked.map((a) => a.contributor_id),
        );
        const events: TesseraEvent[] = [];
        for (const assignment of locked) {
          const reason = inactive.has(assignment.contributor_id) ? 'account_not_active' : 'timeout';
          const { event } = await endClaim(trx, assignment, { to: 'expired', reason }, { at: now });
          if (event) events.push(event);
        }
        await reconcileCampaign(trx, campaignId, now, events[0]);
        return locked.length;
      }),
    {
      logger: options.logger,
      message: "expiring a campaign's claims failed; the other campaigns go on",
      describe: ([campaignId]) => ({ campaign_id: campaignId }),
      ...countedAndParked(options.counted, db, ([campaignId]: [string, string[]]) => campaignId),
    },
  );
  return expired.reduce((sum, n) => sum + n, 0);
}
