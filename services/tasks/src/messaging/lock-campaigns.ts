import type { TesseraEvent } from '@tessera/contracts';
import { idsNamedBy } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { TasksDB } from '../db/schema.ts';

/**
 * The consumers' `lockFirst`: locks the campaigns a batch's events are about, in id order, before
 * any handler runs. Each handler locks its assignment, then its campaign (settle.ts), and a batch
 * holds what its first events locked while it handles the next: two batches on one campaign used
 * to deadlock (one holding the campaign, the other an assignment the first needed next), 265 times
 * in a 10,000-submission chaos run. A campaign is named by the event, or found from its task or
 * its assignment, or its assignment's submission (which never change campaign).
 */
export async function lockCampaignsOf(trx: Kysely<TasksDB>, events: readonly TesseraEvent[]): Promise<void> {
  const campaigns = idsNamedBy(events, ['campaign_id']);
  const tasks = idsNamedBy(events, ['task_id']);
  const assignments = idsNamedBy(events, ['assignment_id']);
  const submissions = idsNamedBy(events, ['submission_id']);
  if (campaigns.length + tasks.length + assignments.length + submissions.length === 0) return;
  await sql`
    select id from campaigns
    where id = any(${campaigns}::uuid[])
       or id in (select campaign_id from tasks where id = any(${tasks}::uuid[]))
       or id in (select campaign_id from assignments where id = any(${assignments}::uuid[]))
       or id in (select campaign_id from assignments where submission_id = any(${submissions}::uuid[]))
    order by id
    for update`.execute(trx);
}
