import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { kitMigrations } from './kit-migrations.ts';

class InlineProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.migrations);
  }
}

async function run(db: Kysely<unknown>, migrations: Record<string, Migration>, table: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new InlineProvider(migrations),
    migrationTableName: table,
    migrationLockTableName: `${table}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`, { cause: error });
  }
}

/**
 * Brings a service's database up to date: first the kit's own tables (outbox,
 * inbox, dead letters), then the service's migrations, each tracked in its own
 * table so their names never collide. Migrations are applied in name order.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  migrations: Record<string, Migration> = {},
): Promise<void> {
  await run(db, kitMigrations, 'kit_migrations');
  if (Object.keys(migrations).length > 0) await run(db, migrations, 'service_migrations');
}
