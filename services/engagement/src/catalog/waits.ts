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
  return dueWaitsQuery(db, limit).execute();
}

/** `dueWaits`' query, unrun (its plan is checked to walk `catalog_waits_received`, migration 0940). */
export function dueWaitsQuery(db: Db, limit: number) {
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
    .limit(limit);
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

/** What operators see of a wait (`ListedWait`): never the event itself, nor whose it is. */
const listedColumns = [
  'event_id',
  sql<string>`event ->> 'type'`.as('event_type'),
  'capability',
  'task_id',
  'campaign_id',
  'received_at',
] as const;

/** A wait as an operator dropped it. */
export interface DismissedWait extends ListedWait {
  dismissed_at: Date;
  dismiss_reason: string;
}

/**
 * Drops a wait an operator judged will never apply (its task or campaign will never be announced),
 * saying why: it leaves `catalog_waits` (the job never applies it, the list and the gauge stop
 * counting it) and what it was, who dropped it and why stay in `catalog_waits_dismissed`, without
 * the event or whose activity it was. Undefined when no such wait is left: never one, already
 * dropped, or applied meanwhile (the job takes a wait by deleting it too, so only one of them does).
 */
export async function dismissWait(
  trx: Db,
  wait: DueWait,
  dismissal: { by: string; reason: string; now: Date },
): Promise<DismissedWait | undefined> {
  const taken = await trx
    .deleteFrom('catalog_waits')
    .where('event_id', '=', wait.event_id.toLowerCase())
    .where('capability', '=', wait.capability)
    .returning(listedColumns)
    .executeTakeFirst();
  if (!taken) return undefined;
  const dismissed = { ...taken, dismissed_at: dismissal.now, dismiss_reason: dismissal.reason };
  await trx
    .insertInto('catalog_waits_dismissed')
    .values({ ...dismissed, dismissed_by: dismissal.by })
    .execute();
  return dismissed;
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

/** A waiting event as operators see it: what waits, for what, since when; never whose it is. */
export interface ListedWait {
  event_id: string;
  event_type: string;
  capability: string;
  task_id: string | null;
  campaign_id: string | null;
  received_at: Date;
}

/** Where a listed wait sits in (received_at, event_id, capability) order: one row per wait. */
export interface WaitPosition {
  receivedAt: Date;
  eventId: string;
  capability: string;
}

/**
 * The events waiting for their task or campaign, oldest first (then by event and capability, the
 * key), after `after` and, with `receivedBefore`, only those received before it. Due waits the job
 * has not applied yet are listed too: they go at its next run.
 */
export async function listWaits(
  db: Db,
  query: { limit: number; receivedBefore?: Date; after?: WaitPosition },
): Promise<ListedWait[]> {
  let select = db
    .selectFrom('catalog_waits')
    .select(listedColumns)
    .orderBy('received_at')
    .orderBy('event_id')
    .orderBy('capability')
    .limit(query.limit);
  if (query.receivedBefore) select = select.where('received_at', '<', query.receivedBefore);
  if (query.after) {
    const { receivedAt, eventId, capability } = query.after;
    select = select.where(
      sql<boolean>`(received_at, event_id, capability) > (${receivedAt}, ${eventId}::uuid, ${capability})`,
    );
  }
  return select.execute();
}

/** When the oldest waiting event was received (undefined: none waits). */
export async function oldestWaitReceivedAt(db: Db): Promise<Date | undefined> {
  const row = await db
    .selectFrom('catalog_waits')
    .select('received_at')
    .orderBy('received_at')
    .limit(1)
    .executeTakeFirst();
  return row?.received_at;
}
