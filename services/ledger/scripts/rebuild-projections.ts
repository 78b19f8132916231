// Rebuilds every projection from the event store: `npm run ledger:rebuild` from the repository
// root, or `pnpm --filter @tessera/ledger rebuild-projections`. Safe while the service runs.
// With --check it changes nothing: it compares the projections with a rebuild and exits 1 on a
// difference.
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { ConfigError, createDatabase, loadConfig, migrateToLatest } from '@tessera/service-kit';
import { ledgerVariables } from '../src/config.ts';
import { compareWithRebuild } from '../src/projections/check.ts';
import { rebuildProjections } from '../src/projections/projector.ts';
import type { ProjectionTables } from '../src/projections/schema.ts';
import { ledgerMigrations, openEventStore } from '../src/service.ts';

const usage = `Usage: rebuild-projections [--check] [--database-url URL]

Empties the ledger's projections (balances, statements, wallets, campaign budgets, transfers) and
replays the whole event store into them, in one transaction: readers see the old rows until the new
ones commit, and a running projector resumes from the rebuilt checkpoint.

  --check              Change nothing: rebuild into temporary tables up to the projections'
                       checkpoint, compare every row, print the differences; exit 1 on any.
  --database-url URL   The ledger's database. Default: $DATABASE_URL, else the local runner's
                       postgres://postgres:postgres@127.0.0.1:$PG_PORT(54329)/tessera_ledger
  LEDGER_EVENT_STORE=kurrentdb with KURRENTDB_URL reads the stream from KurrentDB instead.`;

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const databaseUrl =
  values['database-url'] ??
  (process.env.DATABASE_URL?.trim() ||
    `postgres://postgres:postgres@127.0.0.1:${process.env.PG_PORT ?? 54329}/tessera_ledger`);

let settings;
try {
  settings = loadConfig(
    ledgerVariables
      .pick({ LEDGER_EVENT_STORE: true, KURRENTDB_URL: true, LEDGER_PROJECTION_POLL_MS: true })
      .refine((env) => env.LEDGER_EVENT_STORE !== 'kurrentdb' || env.KURRENTDB_URL !== undefined, {
        path: ['KURRENTDB_URL'],
        message: 'is required when LEDGER_EVENT_STORE=kurrentdb',
      }),
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`rebuild-projections: ${error.message}\n`);
  process.exit(2);
}

const db = createDatabase<ProjectionTables>(databaseUrl, { max: 2 });
const store = await openEventStore({ ...settings, DATABASE_URL: databaseUrl });
try {
  // A check changes nothing, not even the schema.
  if (!values.check) await migrateToLatest(db as unknown as Kysely<unknown>, ledgerMigrations);
  const started = Date.now();
  if (values.check) {
    const result = await compareWithRebuild(db, store);
    if (result.problem) {
      process.stdout.write(`${result.problem}\n`);
      process.exitCode = 1;
    } else if (result.differences.length === 0) {
      process.stdout.write(
        `the projections equal a rebuild of the ${result.events} events up to their checkpoint ` +
          `(${result.checkpoint ?? 'none'}), compared in ${Date.now() - started} ms\n`,
      );
    } else {
      process.stdout.write(
        `the projections differ from a rebuild of the ${result.events} events up to their checkpoint:\n`,
      );
      for (const d of result.differences) {
        process.stdout.write(
          `  ${d.table}: ${d.onlyLive} rows only in the projection, ${d.onlyRebuilt} only in the rebuild\n`,
        );
        for (const example of d.examples) process.stdout.write(`    ${example}\n`);
      }
      process.exitCode = 1;
    }
  } else {
    const result = await rebuildProjections(db, store, {
      onProgress: (events) => {
        if (events % 10_000 === 0) process.stderr.write(`  ${events} events…\n`);
      },
    });
    process.stdout.write(
      `rebuilt the projections from ${result.events} events in ${Date.now() - started} ms ` +
        `(checkpoint ${result.checkpoint ?? 'none'})\n`,
    );
  }
} catch (error) {
  process.stderr.write(
    `rebuild-projections failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await store.close();
  await db.destroy();
}
