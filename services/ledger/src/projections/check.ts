import { type Kysely, sql } from 'kysely';
import type { EventStore } from '../store/event-store.ts';
import { applyEvents } from './repository.ts';
import { PROJECTOR_NAME, type ProjectionTables, projectionTables } from './schema.ts';

/** One projection table's rows that differ from the rebuild: in the live table only, in the rebuild only. */
export interface TableDifference {
  table: string;
  onlyLive: number;
  onlyRebuilt: number;
  /** A few of the differing rows, as JSON, each marked `live:` or `rebuilt:`. */
  examples: string[];
}

export interface RebuildComparison {
  /** The live projection's checkpoint: the rebuild stopped there. */
  checkpoint: string | null;
  events: number;
  /** Set when the checkpoint is not a position of the store (nothing else is compared then). */
  problem?: string;
  differences: TableDifference[];
}

class RollBack extends Error {
  constructor(readonly comparison: RebuildComparison) {
    super('rolled back on purpose');
  }
}

const EXAMPLES = 3;

/**
 * Compares every projection table (balances, statement lines, transfers, wallets, campaign budgets)
 * with what the projector makes of the event store up to the live projection's checkpoint, changing
 * nothing: the rebuild goes into temporary tables of the same shape, in one REPEATABLE READ
 * transaction that reads the live rows and checkpoint as one snapshot, and is rolled back. Catches a
 * projection row edited, lost or applied twice; the audit's replay (`ledger:audit verify`) checks the
 * balances against the log by rules written apart from the projector's.
 */
export async function compareWithRebuild(
  db: Kysely<ProjectionTables>,
  store: EventStore,
  options: { pageSize?: number } = {},
): Promise<RebuildComparison> {
  try {
    await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const [{ live }] = (await sql<{ live: string }>`select current_schema() as live`.execute(trx))
          .rows as [{ live: string }];
        const row = await trx
          .selectFrom('projection_checkpoint')
          .select('checkpoint')
          .where('name', '=', PROJECTOR_NAME)
          .executeTakeFirst();
        const checkpoint = row?.checkpoint ?? null;
        // Temporary tables come first in the search path: the projector's unqualified names write there.
        for (const table of Object.keys(projectionTables)) {
          await sql`create temporary table ${sql.table(table)} (like ${sql.table(`${live}.${table}`)} including all) on commit drop`.execute(
            trx,
          );
        }
        let events = 0;
        let reached = checkpoint === null;
        let after: string | undefined;
        while (!reached) {
          const page = await store.readAll({ ...(after ? { after } : {}), limit: options.pageSize ?? 1_000 });
          if (page.length === 0) break;
          const end = page.findIndex((event) => event.checkpoint === checkpoint);
          const applied = end === -1 ? page : page.slice(0, end + 1);
          await applyEvents(trx, applied);
          events += applied.length;
          reached = end !== -1;
          after = page.at(-1)!.checkpoint;
        }
        if (!reached) {
          throw new RollBack({
            checkpoint,
            events,
            problem: `the projection's checkpoint ${checkpoint} is not a position of the store`,
            differences: [],
          });
        }
        const differences: TableDifference[] = [];
        for (const table of Object.keys(projectionTables)) {
          const liveTable = sql.table(`${live}.${table}`);
          const rebuilt = sql.table(`pg_temp.${table}`);
          const { rows } = await sql<{ live: string; rebuilt: string; examples: string[] }>`
            with only_live as (select * from ${liveTable} except all select * from ${rebuilt}),
                 only_rebuilt as (select * from ${rebuilt} except all select * from ${liveTable})
            select (select count(*) from only_live) as live, (select count(*) from only_rebuilt) as rebuilt,
                   array(select 'live: ' || to_jsonb(l)::text from only_live l limit ${EXAMPLES}) ||
                   array(select 'rebuilt: ' || to_jsonb(r)::text from only_rebuilt r limit ${EXAMPLES}) as examples`.execute(
            trx,
          );
          const counted = rows[0]!;
          if (Number(counted.live) + Number(counted.rebuilt) === 0) continue;
          differences.push({
            table,
            onlyLive: Number(counted.live),
            onlyRebuilt: Number(counted.rebuilt),
            examples: counted.examples,
          });
        }
        throw new RollBack({ checkpoint, events, differences });
      });
  } catch (error) {
    if (error instanceof RollBack) return error.comparison;
    throw error;
  }
  throw new Error('unreachable: the comparison always rolls back');
}
