import { readFile } from 'node:fs/promises';
import { kitMigrations } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { engagementMigrations } from '../../../services/engagement/src/db/migrations.ts';
import { migrations as identityMigrations } from '../../../services/identity/src/db/migrations.ts';
import { ledgerMigrations } from '../../../services/ledger/src/service.ts';
import { payoutsMigrations } from '../../../services/payouts/src/db/migrations.ts';
import { qcMigrations } from '../../../services/qc/src/db/migrations.ts';
import { submissionsMigrations } from '../../../services/submissions/src/db/migrations.ts';
import { tasksMigrations } from '../../../services/tasks/src/db/migrations.ts';

// Kysely runs a database's migrations in name order and refuses to start when the ones it already
// ran are not the first names of the set: a migration renamed, removed or named before one already
// shipped stops that service on every existing database (fresh test databases never notice). The
// names on main are kept in shipped-migrations.json; add a new migration's name there once it lands.

const current: Record<string, Record<string, unknown>> = {
  kit: kitMigrations,
  identity: identityMigrations,
  tasks: tasksMigrations,
  submissions: submissionsMigrations,
  qc: qcMigrations,
  ledger: ledgerMigrations,
  payouts: payoutsMigrations,
  engagement: engagementMigrations,
};

describe('the migrations of every database', () => {
  it('keep every name already shipped, and sort each new one after them all', async () => {
    const shipped = JSON.parse(
      await readFile(new URL('./shipped-migrations.json', import.meta.url), 'utf8'),
    ) as Record<string, string[]>;
    expect(Object.keys(shipped).sort()).toEqual(Object.keys(current).sort());
    for (const [set, names] of Object.entries(shipped)) {
      const now = Object.keys(current[set]!);
      const missing = names.filter((name) => !now.includes(name));
      expect(missing, `${set}: shipped migrations renamed or removed`).toEqual([]);
      const last = [...names].sort().at(-1)!;
      const early = now.filter((name) => !names.includes(name) && name < last);
      expect(early, `${set}: new migrations must sort after ${last}, the last one shipped`).toEqual([]);
    }
  });
});
