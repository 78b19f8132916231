import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { kitMigrations } from './kit-migrations.ts';

/**
 * A migration as a service declares it. `transaction: false` runs it alone, outside any
 * transaction: what Postgres refuses inside one, above all `create index concurrently`, which builds
 * an index on a large table without blocking its writes (a plain `create index` holds a lock that
 * stops every insert and update of the table until the build ends). Such a migration must be safe
 * to run again after a failure half-way (`drop index concurrently if exists` first: a failed
 * concurrent build leaves an invalid index behind), since nothing rolls it back.
 */
export interface ServiceMigration extends Migration {
  transaction?: false;
}

class InlineProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.migrations);
  }
}

/**
 * The migrations in name order, cut into runs: consecutive transactional ones together (one
 * transaction for the run, as before), each `transaction: false` one alone.
 */
export function migrationRuns(
  migrations: Record<string, ServiceMigration>,
): { last: string; transaction: boolean }[] {
  const runs: { last: string; transaction: boolean }[] = [];
  for (const name of Object.keys(migrations).sort((a, b) => a.localeCompare(b))) {
    const transaction = migrations[name]!.transaction !== false;
    const open = runs[runs.length - 1];
    if (open && open.transaction && transaction) open.last = name;
    else runs.push({ last: name, transaction });
  }
  return runs;
}

function failure(error: unknown, results: { status: string; migrationName: string }[] | undefined): Error {
  const failed = results?.find((r) => r.status === 'Error');
  const reason = error instanceof Error ? error.message : JSON.stringify(error);
  return new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`, { cause: error });
}

async function run(
  db: Kysely<unknown>,
  migrations: Record<string, ServiceMigration>,
  table: string,
): Promise<void> {
  const migrator = (transaction: boolean) =>
    new Migrator({
      db,
      provider: new InlineProvider(migrations),
      migrationTableName: table,
      migrationLockTableName: `${table}_lock`,
      disableTransactions: !transaction,
    });
  // Each run is `migrateTo` its last migration, which would migrate *down* to it were the database
  // already past it: runs already applied are skipped, by what was applied when this began (under
  // `migrationsLock` nobody else moves it; the runs here only add to it, in order).
  const applied = new Set(
    (await migrator(true).getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name),
  );
  for (const { last, transaction } of migrationRuns(migrations)) {
    if (applied.has(last)) continue;
    const { error, results } = await migrator(transaction).migrateTo(last);
    if (error) throw failure(error, results);
  }
}

const LOCK_POLL_MS = 100;

/**
 * Runs `work` while this database's migrations are ours alone (instances of a service starting
 * together). The lock is polled, never waited for in a statement: `create index concurrently`
 * waits for every transaction of the database older than its own, a waiting `pg_advisory_lock`
 * too, which would wait for the build in turn, a cycle through the client that Postgres cannot see.
 */
async function migrationsLock(
  db: Kysely<unknown>,
  work: (connection: Kysely<unknown>) => Promise<void>,
): Promise<void> {
  await db.connection().execute(async (connection) => {
    const key = sql`hashtextextended('tessera:migrations', 0)`;
    for (;;) {
      const { rows } = await sql<{ got: boolean }>`select pg_try_advisory_lock(${key}) as got`.execute(
        connection,
      );
      if (rows[0]?.got) break;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    try {
      await work(connection);
    } finally {
      await sql`select pg_advisory_unlock(${key})`.execute(connection);
    }
  });
}

/**
 * Brings a service's database up to date: first the kit's own tables (outbox,
 * inbox, dead letters), then the service's migrations, each tracked in its own
 * table so their names never collide. Migrations are applied in name order, those
 * in a row in one transaction; a `transaction: false` one alone, outside any.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  migrations: Record<string, ServiceMigration> = {},
): Promise<void> {
  // On the connection that holds the lock: the migrations need no other, so a pool of one suffices.
  await migrationsLock(db, async (connection) => {
    await run(connection, kitMigrations, 'kit_migrations');
    if (Object.keys(migrations).length > 0) await run(connection, migrations, 'service_migrations');
  });
}
