import type { TaskType } from '@tessera/contracts';
import type { Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';

type Db = Kysely<EngagementDB>;

/**
 * What was found of the catalog, by id: a task's type and a campaign's company never change, and
 * every approval asks for them (badges and missions both read the task's type). Only found values
 * are kept (a task not seen yet may arrive any moment); bounded, and simply emptied when full.
 */
const MAX_KEPT = 50_000;
const taskTypes = new Map<string, TaskType>();
const companies = new Map<string, string>();

function keep<V>(map: Map<string, V>, key: string, value: V | undefined): V | undefined {
  if (value === undefined) return undefined;
  if (map.size >= MAX_KEPT) map.clear();
  map.set(key, value);
  return value;
}

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
  const kept = taskTypes.get(taskId);
  if (kept) return kept;
  const row = await db
    .selectFrom('catalog_tasks')
    .select('task_type')
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return keep(taskTypes, taskId, row?.task_type);
}

export async function companyOfCampaign(db: Db, campaignId: string): Promise<string | undefined> {
  const kept = companies.get(campaignId);
  if (kept) return kept;
  const row = await db
    .selectFrom('catalog_campaigns')
    .select('company_id')
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
  return keep(companies, campaignId, row?.company_id);
}
