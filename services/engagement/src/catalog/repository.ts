import type { TaskType } from '@tessera/contracts';
import type { Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';

type Db = Kysely<EngagementDB>;

/** A task's type never changes once published, nor its campaign: the first snapshot is enough. */
export async function taskKnown(trx: Db, taskId: string, campaignId: string, type: TaskType): Promise<void> {
  await trx
    .insertInto('catalog_tasks')
    .values({ task_id: taskId, campaign_id: campaignId, task_type: type })
    .onConflict((oc) => oc.column('task_id').doNothing())
    .execute();
}

export async function campaignKnown(trx: Db, campaignId: string, companyId: string): Promise<void> {
  await trx
    .insertInto('catalog_campaigns')
    .values({ campaign_id: campaignId, company_id: companyId })
    .onConflict((oc) => oc.column('campaign_id').doNothing())
    .execute();
}

/** The task's type, or undefined when its published event has not arrived (it was never seen). */
export async function taskTypeOf(db: Db, taskId: string): Promise<TaskType | undefined> {
  const row = await db
    .selectFrom('catalog_tasks')
    .select('task_type')
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return row?.task_type;
}

export async function companyOfCampaign(db: Db, campaignId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('catalog_campaigns')
    .select('company_id')
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
  return row?.company_id;
}
