import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import { z } from 'zod';
import type { AnyDatabase, JobItemFailuresTable, KitTables } from './db/kit-migrations.ts';
import type { HttpApp } from './http/app.ts';
import { requireRole } from './http/auth.ts';
import { limitParam, opaqueCursor, paginate } from './http/pagination.ts';
import { refusal } from './refusal.ts';

/**
 * The items a periodic job failed on, and those it gave up on. A job selects its due items oldest
 * first, a bounded number per run; an item that fails every time would come first again at every
 * run, and enough of them would fill every run and hold up everything behind them. So each failure
 * is counted here, and after `after` failures in a row the item is parked: the job's own query
 * leaves it out (`notParked`) until an operator retries it (the admin routes below), which forgets
 * its failures. An item handled successfully forgets them too.
 */

export type ParkedItem = Selectable<JobItemFailuresTable>;

/** Failures in a row after which an item is parked, unless the job says otherwise. */
export const PARK_AFTER_FAILURES = 5;

/** Failures further apart than this are not "in a row": the count starts again. */
export const FAILURE_STREAK_MS = 24 * 3_600_000;

/**
 * For a job's due-items query: true unless `ref` (a column holding the item's key) names an item
 * this job parked.
 */
export function notParked(job: string, ref: string): RawBuilder<boolean> {
  return sql<boolean>`not exists (select 1 from job_item_failures parked
    where parked.job = ${job} and parked.item = ${sql.ref(ref)}::text and parked.parked_at is not null)`;
}

/** How many times in a row each of `items` has failed (only those that have). */
export async function failuresOf(
  anyDb: AnyDatabase,
  job: string,
  items: readonly string[],
): Promise<Map<string, number>> {
  const db = anyDb as Kysely<KitTables>;
  if (items.length === 0) return new Map();
  const rows = await db
    .selectFrom('job_item_failures')
    .select(['item', 'failures'])
    .where('job', '=', job)
    .where('item', 'in', items)
    .execute();
  return new Map(rows.map((r) => [r.item, r.failures]));
}

/** Counts one more failure of `item`; parks it when that makes `after`. Says whether it is parked. */
export async function recordFailure(
  anyDb: AnyDatabase,
  job: string,
  item: string,
  error: unknown,
  after: number,
): Promise<{ failures: number; parked: boolean }> {
  const db = anyDb as Kysely<KitTables>;
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 2_000);
  const now = new Date();
  // The failures so far, unless the last one is too long ago to be part of this streak.
  const streak = sql`(case when job_item_failures.last_failed_at
    < ${new Date(now.getTime() - FAILURE_STREAK_MS)}::timestamptz then 0 else job_item_failures.failures end)`;
  const row = await db
    .insertInto('job_item_failures')
    .values({
      job,
      item,
      failures: 1,
      error: message,
      first_failed_at: now,
      last_failed_at: now,
      parked_at: after <= 1 ? now : null,
    })
    .onConflict((oc) =>
      oc.columns(['job', 'item']).doUpdateSet({
        failures: sql`${streak} + 1`,
        error: message,
        first_failed_at: sql`case when ${streak} = 0 then ${now}::timestamptz else job_item_failures.first_failed_at end`,
        last_failed_at: now,
        parked_at: sql`coalesce(job_item_failures.parked_at,
          case when ${streak} + 1 >= ${after} then ${now}::timestamptz end)`,
      }),
    )
    .returning(['failures', 'parked_at'])
    .executeTakeFirstOrThrow();
  return { failures: row.failures, parked: row.parked_at !== null };
}

/**
 * Parks `item` now, with `reason` as its error: for an item no retry by the job can settle, which
 * waits for an operator (who retries it, or settles it by a route of the service's own). Parking
 * an item already parked keeps its first parking time and counts one more failure.
 */
export async function parkItem(anyDb: AnyDatabase, job: string, item: string, reason: string): Promise<void> {
  await recordFailure(anyDb, job, item, new Error(reason), 1);
}

/**
 * Whether `job` parked `item` (failed or waiting, it is not parked until then). With `lock`, the
 * parked row is locked for the transaction: an operator's retry racing a route that settles the
 * item waits for it, then finds nothing to unpark.
 */
export async function isParked(
  anyDb: AnyDatabase,
  job: string,
  item: string,
  options: { lock?: boolean } = {},
): Promise<boolean> {
  const db = anyDb as Kysely<KitTables>;
  const select = db
    .selectFrom('job_item_failures')
    .select('item')
    .where('job', '=', job)
    .where('item', '=', item)
    .where('parked_at', 'is not', null);
  const row = await (options.lock ? select.forUpdate() : select).executeTakeFirst();
  return row !== undefined;
}

/** Forgets the failures of an item that was just handled. */
export async function forgetFailures(anyDb: AnyDatabase, job: string, item: string): Promise<void> {
  const db = anyDb as Kysely<KitTables>;
  await db.deleteFrom('job_item_failures').where('job', '=', job).where('item', '=', item).execute();
}

export async function listParkedItems(
  db: Kysely<KitTables>,
  query: { job?: string; limit: number; after?: { job: string; item: string } },
): Promise<ParkedItem[]> {
  let select = db
    .selectFrom('job_item_failures')
    .selectAll()
    .where('parked_at', 'is not', null)
    .orderBy('job')
    .orderBy('item')
    .limit(query.limit);
  if (query.job) select = select.where('job', '=', query.job);
  if (query.after) {
    const { job, item } = query.after;
    select = select.where(sql<boolean>`(job, item) > (${job}, ${item})`);
  }
  return select.execute();
}

/** Unparks an item so that the job's next run takes it again, with its failures forgotten. */
export async function retryParkedItem(db: Kysely<KitTables>, job: string, item: string): Promise<ParkedItem> {
  const row = await db
    .deleteFrom('job_item_failures')
    .where('job', '=', job)
    .where('item', '=', item)
    .where('parked_at', 'is not', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw refusal('not_found', 'PARKED_ITEM_NOT_FOUND', `Job ${job} has no parked item ${item}.`);
  return row;
}

const parkedItemSchema = z.object({
  job: z.string(),
  item: z.string(),
  failures: z.number().int(),
  error: z.string(),
  first_failed_at: z.date(),
  last_failed_at: z.date(),
  parked_at: z.date().nullable(),
});

/** Every job parks items by a uuid (a transfer's, a withdrawal's, a campaign's, a submission's). */
const itemKey = z.uuid().transform((id) => id.toLowerCase());

/** Operator routes: the items a job parked, and a retry of one. Admins only. */
export function registerParkedItemRoutes<DB extends KitTables>(
  app: HttpApp,
  options: { service: string; db: Kysely<DB>; jobs: readonly string[] },
): void {
  const db = options.db as unknown as Kysely<KitTables>;
  const base = `/api/v1/admin/${options.service}/parked-items`;
  const tags = ['operations'];
  const jobName = z.enum(options.jobs as [string, ...string[]]);
  // Where the last item shown sits in (job, item) order.
  const position = opaqueCursor(z.strictObject({ job: jobName, item: itemKey }));

  app.get(
    base,
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: 'List the items periodic jobs gave up on after failing on them repeatedly',
        security: [{ bearerAuth: [] }],
        querystring: z.object({
          job: jobName.optional(),
          cursor: position.param.optional(),
          limit: limitParam(50, 200),
        }),
        response: {
          200: z.object({ parked_items: z.array(parkedItemSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const { job, cursor, limit } = request.query;
      const rows = await listParkedItems(db, {
        ...(job ? { job } : {}),
        ...(cursor ? { after: cursor } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit, (last) =>
        position.encode({ job: last.job, item: last.item }),
      );
      return { parked_items: page, next_cursor: next };
    },
  );

  app.post(
    `${base}/:job/:item/retry`,
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: "Unpark an item: the job's next run takes it again, its failures forgotten",
        security: [{ bearerAuth: [] }],
        params: z.object({ job: jobName, item: itemKey }),
        response: { 200: z.object({ parked_item: parkedItemSchema }) },
      },
    },
    async (request) => ({
      parked_item: await retryParkedItem(db, request.params.job, request.params.item),
    }),
  );
}
