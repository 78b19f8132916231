import { parseEvent, type TesseraEvent } from '@tessera/contracts';
import type { Logger } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';

type Db = Kysely<EngagementDB>;

/*
 * Engagement reads the tasks stream and the submissions stream independently, so an approval may be
 * handled before tasks told engagement the task's type or the campaign's company. That is not final:
 * a capability that needs them records the event here (`waitForCatalog`) and applies nothing of it;
 * the catalog job (`messaging/waits.ts`) hands it back to that capability once the catalog knows
 * what it waits for, in a transaction of its own. However long tasks lags, nothing is lost and
 * nothing is dead-lettered; the rest of the approval (XP, notifications) is applied at once.
 */

export interface CatalogWait {
  /** The capability that will apply the event (its `name`). */
  capability: string;
  event: TesseraEvent;
  /** Whose activity it is: erasure deletes the user's waits. */
  userId?: string;
  taskId?: string;
  campaignId?: string;
  now: Date;
}

/** Keeps `event` for `capability` until the catalog knows the task or the campaign it names. */
export async function waitForCatalog(trx: Db, wait: CatalogWait, logger?: Logger): Promise<void> {
  await trx
    .insertInto('catalog_waits')
    .values({
      event_id: wait.event.id,
      capability: wait.capability,
      user_id: wait.userId?.toLowerCase() ?? null,
      task_id: wait.taskId?.toLowerCase() ?? null,
      campaign_id: wait.campaignId?.toLowerCase() ?? null,
      event: JSON.stringify(wait.event),
      received_at: wait.now,
    })
    .onConflict((oc) => oc.columns(['event_id', 'capability']).doNothing())
    .execute();
  logger?.info(
    {
      event_id: wait.event.id,
      capability: wait.capability,
      task_id: wait.taskId,
      campaign_id: wait.campaignId,
    },
    'an event waits for its task or campaign: applied when tasks announces it',
  );
}

export interface DueWait {
  event_id: string;
  capability: string;
}

/** Waits whose task and campaign are both known now, oldest first. */
export async function dueWaits(db: Db, limit: number): Promise<DueWait[]> {
  return db
    .selectFrom('catalog_waits as w')
    .select(['w.event_id', 'w.capability'])
    .where((eb) =>
      eb.and([
        eb.or([
          eb('w.task_id', 'is', null),
          eb.exists(
            eb.selectFrom('catalog_tasks as t').select('t.task_id').whereRef('t.task_id', '=', 'w.task_id'),
          ),
        ]),
        eb.or([
          eb('w.campaign_id', 'is', null),
          eb.exists(
            eb
              .selectFrom('catalog_campaigns as c')
              .select('c.campaign_id')
              .whereRef('c.campaign_id', '=', 'w.campaign_id'),
          ),
        ]),
      ]),
    )
    .orderBy('w.received_at')
    .orderBy('w.event_id')
    .limit(limit)
    .execute();
}

/** The waiting event, taken (deleted) in `trx`: undefined when another transaction took it first. */
export async function takeWait(trx: Db, wait: DueWait): Promise<TesseraEvent | undefined> {
  const row = await trx
    .deleteFrom('catalog_waits')
    .where('event_id', '=', wait.event_id)
    .where('capability', '=', wait.capability)
    .returning('event')
    .executeTakeFirst();
  return row ? parseEvent(row.event) : undefined;
}

/** The event a wait holds, read without taking it (to know whose locks to take first). */
export async function peekWait(db: Db, wait: DueWait): Promise<TesseraEvent | undefined> {
  const row = await db
    .selectFrom('catalog_waits')
    .select('event')
    .where('event_id', '=', wait.event_id)
    .where('capability', '=', wait.capability)
    .executeTakeFirst();
  return row ? parseEvent(row.event) : undefined;
}

/** An erased user's waits go: they would apply nothing, and they hold the user's id. */
export async function forgetWaitsOf(trx: Db, userId: string): Promise<void> {
  await trx.deleteFrom('catalog_waits').where('user_id', '=', userId.toLowerCase()).execute();
}

/** How many events wait (figures and tests). */
export async function waitingCount(db: Db): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from catalog_waits`.execute(db);
  return Number(rows[0]?.n ?? 0);
}
