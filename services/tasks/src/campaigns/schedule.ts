import { countedAndParked, eachOnItsOwn, type JobMetrics, type Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { decideCampaignCommand, hasEnded } from './decide.ts';
import { closeCampaign } from './handle.ts';
import { reconcileCampaign } from './reconcile.ts';
import { closableCampaignIds, endedCampaignIds, findCampaign, hasPendingFunding } from './repository.ts';

/**
 * Completes running campaigns whose end date has passed, exactly as the complete route does: their
 * tasks close, and the ledger is told to return what is left once promised work is paid. A campaign
 * with a funding request in flight waits for the ledger's answer. Drafts (and campaigns still being
 * funded) past their end are left as they are: they cannot be activated any more.
 * Each campaign closes in its own transaction, and one that fails does not hold up the others (one
 * that keeps failing is parked: the kit's parked-items.ts);
 * returns how many closed.
 */
export async function completeEndedCampaigns(
  db: Kysely<TasksDB>,
  options: { now: Date; limit?: number; logger?: Logger; counted?: { job: string; metrics: JobMetrics } },
): Promise<number> {
  const { now } = options;
  const ids = await endedCampaignIds(db, now, options.limit ?? 100, options.counted?.job);
  const closed = await eachOnItsOwn(
    ids,
    (id) =>
      db.transaction().execute(async (trx) => {
        // Looked at again under the row lock: a request may have changed it since the scan.
        const campaign = await findCampaign(trx, id, { lock: true });
        if (!campaign || !hasEnded(campaign, now)) return false;
        if (campaign.status !== 'active' && campaign.status !== 'paused') return false;
        const fundingPending = await hasPendingFunding(trx, id);
        if (!decideCampaignCommand(campaign, { command: 'complete', now, fundingPending }).ok) return false;
        await closeCampaign(trx, campaign, 'completed', { now });
        return true;
      }),
    {
      logger: options.logger,
      message: 'completing an ended campaign failed; the others go on',
      describe: (id) => ({ campaign_id: id }),
      ...countedAndParked(options.counted, db, (id: string) => id),
    },
  );
  return closed.filter(Boolean).length;
}

/**
 * Announces the close of ended campaigns that waited only for their rejections' appeal windows
 * (money.ts `decideAutomation`): once the last window has passed at `now`, each is re-decided, in
 * its own transaction under its row lock, exactly as after any change to it, so running again (or
 * alongside another change) announces nothing twice. Returns how many closes were announced.
 */
export async function announceDueCloses(
  db: Kysely<TasksDB>,
  options: { now: Date; limit?: number; logger?: Logger; counted?: { job: string; metrics: JobMetrics } },
): Promise<number> {
  const { now } = options;
  const ids = await closableCampaignIds(db, now, options.limit ?? 100, options.counted?.job);
  const announced = await eachOnItsOwn(
    ids,
    (id) =>
      db
        .transaction()
        .execute(async (trx) => (await reconcileCampaign(trx, id, now))?.kind === 'announce-close'),
    {
      logger: options.logger,
      message: "announcing an ended campaign's close failed; the others go on",
      describe: (id) => ({ campaign_id: id }),
      ...countedAndParked(options.counted, db, (id: string) => id),
    },
  );
  return announced.filter(Boolean).length;
}
