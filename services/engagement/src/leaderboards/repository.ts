import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { type Metric, type Period, periodStart } from './periods.ts';

type Db = Kysely<EngagementDB>;

/** One board: a period's instance and a metric. */
export interface Board {
  period: Period;
  periodStart: string;
  metric: Metric;
}

export interface BoardRow {
  user_id: string;
  value: number;
}

const onBoard = (db: Db, board: Board) =>
  db
    .selectFrom('leaderboard_totals')
    .where('period', '=', board.period)
    .where('period_start', '=', board.periodStart)
    .where('metric', '=', board.metric)
    // A literal, not a parameter: the planner must see it to use the partial rank index.
    .where(sql<boolean>`listed`);

/** The first `limit` listed users, by value then user id (an index range read). */
export async function topOf(db: Db, board: Board, limit: number): Promise<BoardRow[]> {
  return onBoard(db, board)
    .select(['user_id', 'value'])
    .orderBy('value', 'desc')
    .orderBy('user_id')
    .limit(limit)
    .execute();
}

/** The user's value on the board, when they are listed on it. */
export async function valueOf(db: Db, board: Board, userId: string): Promise<number | undefined> {
  const row = await onBoard(db, board).select('value').where('user_id', '=', userId).executeTakeFirst();
  return row === undefined ? undefined : Number(row.value);
}

/** How many listed users have a value in (above, upTo]: "ahead of me" is (mine, ∞). */
export async function countBetween(db: Db, board: Board, above: number, upTo?: number): Promise<number> {
  let query = onBoard(db, board)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('value', '>', above);
  if (upTo !== undefined) query = query.where('value', '<=', upTo);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/**
 * Up to `n` users listed just before the user in board order (value desc, user id), nearest last.
 * Two index range reads (the tie before the user, and the values above), the nearest `n` of both.
 */
export async function justAbove(db: Db, board: Board, me: BoardRow, n: number): Promise<BoardRow[]> {
  const { rows } = await sql<BoardRow>`
    select user_id, value from (
      (select user_id, value from leaderboard_totals where ${onThis(board)}
         and value = ${me.value} and user_id < ${me.user_id} order by user_id desc limit ${n})
      union all
      (select user_id, value from leaderboard_totals where ${onThis(board)}
         and value > ${me.value} order by value asc, user_id desc limit ${n})
    ) near order by value asc, user_id desc limit ${n}`.execute(db);
  return rows.reverse();
}

/** Up to `n` users listed just after the user in board order, nearest first. */
export async function justBelow(db: Db, board: Board, me: BoardRow, n: number): Promise<BoardRow[]> {
  const { rows } = await sql<BoardRow>`
    select user_id, value from (
      (select user_id, value from leaderboard_totals where ${onThis(board)}
         and value = ${me.value} and user_id > ${me.user_id} order by user_id asc limit ${n})
      union all
      (select user_id, value from leaderboard_totals where ${onThis(board)}
         and value < ${me.value} order by value desc, user_id asc limit ${n})
    ) near order by value desc, user_id asc limit ${n}`.execute(db);
  return rows;
}

const onThis = (board: Board) =>
  sql`period = ${board.period} and period_start = ${board.periodStart} and metric = ${board.metric} and listed`;

export async function levelsOf(db: Db, userIds: readonly string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('standings')
    .select(['user_id', 'level'])
    .where('user_id', 'in', userIds)
    .execute();
  return new Map(rows.map((row) => [row.user_id, row.level]));
}

/**
 * Counts an approved submission once on the user's `approved` boards of the period it was
 * approved in (and all time).
 */
export async function countApproval(trx: Db, submissionId: string, userId: string, at: Date): Promise<void> {
  const first = await trx
    .insertInto('leaderboard_approvals')
    .values({ submission_id: submissionId })
    .onConflict((oc) => oc.column('submission_id').doNothing())
    .returning('submission_id')
    .executeTakeFirst();
  if (!first) return;
  const listed = sql<boolean>`leaderboard_listed(${userId}::uuid)`;
  await trx
    .insertInto('leaderboard_totals')
    .values(
      (['weekly', 'monthly', 'all_time'] as const).map((period) => ({
        period,
        period_start: periodStart(period, at),
        metric: 'approved',
        user_id: userId,
        value: 1,
        listed,
      })),
    )
    .onConflict((oc) =>
      oc
        .columns(['period', 'period_start', 'metric', 'user_id'])
        .doUpdateSet({ value: sql<number>`leaderboard_totals.value + 1` }),
    )
    .execute();
}

/** Lists or unlists the user everywhere after identity said who they are now (erased: their rows go). */
export async function relist(trx: Db, userId: string): Promise<void> {
  await trx
    .updateTable('leaderboard_totals')
    .set({ listed: sql<boolean>`leaderboard_listed(${userId}::uuid)` })
    .where('user_id', '=', userId)
    .execute();
}

export async function forgetUser(trx: Db, userId: string): Promise<void> {
  await trx.deleteFrom('leaderboard_totals').where('user_id', '=', userId).execute();
}
