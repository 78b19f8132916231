import { migrateToLatest } from '@tessera/service-kit';
import { createTestDatabase } from '@tessera/service-kit/testing';
import { Kysely, type Migration, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ledgerMigrations } from './service.ts';

/**
 * The ledger's migrations as they stood at past releases: a database migrated by any of these must
 * take today's set. (The names alone are held to those shipped by
 * infra/local/src/migrations-order.unit.spec.ts; this runs the upgrade on a real database.)
 */
const SHIPPED: readonly (readonly string[])[] = [
  // Stop 35 (e669332).
  [
    '0001_event_store',
    '0002_set_based_append',
    '0003_wait_for_expected_revisions_ahead',
    '0100_projections',
    '0110_read_models_and_outcomes',
    '0200_audit_chain',
    '0300_claims',
    '0310_promotions_budget',
  ],
  // Before the honeypot fees (0410_honeypot_fees).
  [
    '0001_event_store',
    '0002_set_based_append',
    '0003_wait_for_expected_revisions_ahead',
    '0100_projections',
    '0110_read_models_and_outcomes',
    '0200_audit_chain',
    '0300_claims',
    '0310_promotions_budget',
    '0400_set_based_append_through_the_index',
  ],
];

describe("the ledger's migrations", () => {
  it.each(SHIPPED.map((shipped) => [shipped.at(-1)!, shipped] as const))(
    'bring a database last migrated to %s up to date',
    async (_, shipped) => {
      const database = await createTestDatabase('ledger_upgrade');
      const db = new Kysely<unknown>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }),
      });
      try {
        const all: Record<string, Migration> = ledgerMigrations;
        const old = Object.fromEntries(shipped.map((name) => [name, all[name]!]));
        await migrateToLatest(db, old);
        await migrateToLatest(db, ledgerMigrations);
        const { rows } = await sql<{
          name: string;
        }>`select name from service_migrations order by name`.execute(db);
        expect(rows.map((row) => row.name)).toEqual(Object.keys(ledgerMigrations).sort());
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );
});
