import type { TesseraEvent } from '@tessera/contracts';
import { countedAndParked, eachOnItsOwn, type JobMetrics, type Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { lockCampaigns, reconcileCampaign } from '../campaigns/index.ts';
import type { TasksDB } from '../db/schema.ts';
import { endClaim } from './handle.ts';
import { dueAssignments, inactiveContributors, lockDueAssignments } from './repository.ts';

type Due = { id: string; campaign_id: string };

/**
 * Frees the slots of claims past their expiry time, oldest first, up to `limit` per run. Each
 * campaign's expired claims end (`endClaim`) in one short transaction that locks the campaign,
 * then the due assignments (`for update skip locked`: a release, a submission or another instance of this job
 * holding one simply wins it) and re-decides the campaign once. One campaign per transaction keeps
 * claims on other campaigns flowing and means two instances can never wait on each other's
 * campaign locks in opposite orders.
 *
 * When a campaign's transaction fails, its claims are expired again one by one, each in its own
 * transaction, so one claim that cannot expire does not hold up the others of its campaign. Those
 * failures are counted per claim, and a claim that keeps failing is parked by its id, its campaign's
 * other claims still expiring (the kit's parked-items.ts). Returns how many expired.
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

  let expired = 0;
  const alone: Due[] = [];
  for (const [campaignId, ids] of byCampaign) {
    if (ids.length === 1) {
      alone.push({ id: ids[0]!, campaign_id: campaignId });
      continue;
    }
    try {
      expired += await expireTogether(db, campaignId, ids, now);
    } catch (error) {
      options.logger?.warn(
        { err: error, campaign_id: campaignId, claims: ids.length },
        "expiring a campaign's claims together failed; expiring them one by one",
      );
      for (const id of ids) alone.push({ id, campaign_id: campaignId });
    }
  }
  const one = await eachOnItsOwn<Due, number>(
    alone,
    (row) => expireTogether(db, row.campaign_id, [row.id], now),
    {
      logger: options.logger,
      message: 'expiring a claim failed; the other claims go on',
      describe: (row) => ({ assignment_id: row.id, campaign_id: row.campaign_id }),
      ...countedAndParked(options.counted, db, (row: Due) => row.id),
    },
  );
  return one.reduce((sum, n) => sum + n, expired);
}

/** Ends these due claims of one campaign in one transaction, campaign locked first. */
async function expireTogether(
  db: Kysely<TasksDB>,
  campaignId: string,
  ids: readonly string[],
  now: Date,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
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
  });
}
