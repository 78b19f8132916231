import type { Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { competitionRanks, type Metric, type Period, periodStart } from './periods.ts';
import {
  type Board,
  type BoardRow,
  countBetween,
  justAbove,
  justBelow,
  levelsOf,
  topOf,
  valueOf,
} from './repository.ts';

type Db = Kysely<EngagementDB>;

/** How many neighbours on each side of the caller `around` shows. */
export const AROUND = 2;

export interface Ranked {
  rank: number;
  user_id: string;
  level: number;
  value: number;
}

export interface LeaderboardView {
  period: Period;
  metric: Metric;
  periodStart: string | null;
  top: Ranked[];
  me: { rank: number; value: number } | null;
  /** The caller among the entries just above and below them, in board order. */
  around: Ranked[];
}

/**
 * A board now: its top `limit`, the caller's rank (1 + how many listed users have more) and the
 * entries around them. Read in one repeatable-read snapshot, so the ranks agree with each other.
 */
export async function leaderboard(
  db: Db,
  query: { period: Period; metric: Metric; limit: number; userId: string | null; now: Date },
): Promise<LeaderboardView> {
  const board: Board = {
    period: query.period,
    periodStart: periodStart(query.period, query.now),
    metric: query.metric,
  };
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const top = await topOf(trx, board, query.limit);
      const mine = query.userId === null ? undefined : await valueOf(trx, board, query.userId);
      let me: LeaderboardView['me'] = null;
      let near: { row: BoardRow; rank: number }[] = [];
      if (query.userId !== null && mine !== undefined) {
        const self: BoardRow = { user_id: query.userId, value: mine };
        const rank = 1 + (await countBetween(trx, board, mine));
        me = { rank, value: mine };
        near = await neighbours(trx, board, self, rank);
      }
      const levels = await levelsOf(trx, [
        ...new Set([...top.map((row) => row.user_id), ...near.map(({ row }) => row.user_id)]),
      ]);
      const ranked = (row: BoardRow, rank: number): Ranked => ({
        rank,
        user_id: row.user_id,
        level: levels.get(row.user_id) ?? 1,
        value: Number(row.value),
      });
      const topRanks = competitionRanks(top.map((row) => Number(row.value)));
      return {
        period: board.period,
        metric: board.metric,
        periodStart: board.period === 'all_time' ? null : board.periodStart,
        top: top.map((row, index) => ranked(row, topRanks[index]!)),
        me,
        around: near.map(({ row, rank }) => ranked(row, rank)),
      };
    });
}

/**
 * The caller and their neighbours with ranks. A neighbour ahead with value v ranks
 * rank(me) − #(mine < value ≤ v); one behind with w ranks rank(me) + #(w < value ≤ mine): short
 * range counts near the caller instead of a count from the top for each.
 */
async function neighbours(
  db: Db,
  board: Board,
  self: BoardRow,
  rank: number,
): Promise<{ row: BoardRow; rank: number }[]> {
  const above = await justAbove(db, board, self, AROUND);
  const below = await justBelow(db, board, self, AROUND);
  const rankOf = new Map<number, number>([[self.value, rank]]);
  for (const { value } of above) {
    const v = Number(value);
    if (!rankOf.has(v)) rankOf.set(v, rank - (await countBetween(db, board, self.value, v)));
  }
  for (const { value } of below) {
    const w = Number(value);
    if (!rankOf.has(w)) rankOf.set(w, rank + (await countBetween(db, board, w, self.value)));
  }
  return [...above, self, ...below].map((row) => ({ row, rank: rankOf.get(Number(row.value))! }));
}
