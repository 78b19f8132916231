import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, createLogger, migrateToLatest } from '@tessera/service-kit';
import { createTestDatabase } from '@tessera/service-kit/testing';
import { createLedger } from '../engine/ledger.ts';
import { rebuildProjections } from '../projections/projector.ts';
import { projectionMigrations, type ProjectionTables } from '../projections/schema.ts';
import type { EventStore, RecordedEvent } from '../store/event-store.ts';
import { createPostgresEventStore, postgresEventStoreMigrations } from '../store/postgres-store.ts';
import { canonicalEventOf } from './chain.ts';
import { createSealer } from './sealer.ts';
import { loadSealSigner, type SealSigner } from './seal-keys.ts';
import { chainedEventOfRow, chainRowOf, eventRowPages, linkRowPages } from './pg-rows.ts';
import { chainPages, readEventPages } from './sources.ts';
import { auditMigrations, type AuditTables } from './tables.ts';
import { driveLedger, manualClock } from './testing/activity.ts';
import { verifyDatabase } from './verify-database.ts';

// The audit reads es_events itself, in large prefetched pages: the pages must be exactly the
// store's readAll, and an event altered at the edge of a page must not slip between two pages.
const logger = createLogger({ name: 'audit-pages-test', level: 'silent', pretty: false });
const PAGE = 40;

let database: { url: string; drop(): Promise<void> };
let db: Kysely<AuditTables & ProjectionTables>;
let store: EventStore;
let signer: SealSigner;
/** The pg pool of the audit's row reader, as the CLI passes it. */
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase('ledger_audit_pages');
  db = createDatabase(database.url);
  await migrateToLatest(db as Kysely<unknown>, {
    ...postgresEventStoreMigrations,
    ...projectionMigrations,
    ...auditMigrations,
  });
  store = await createPostgresEventStore({ db, notify: false });
  const clock = manualClock();
  await driveLedger(createLedger(store, { clock: clock.now }), { clock, rounds: 3, users: 3 });
  signer = await loadSealSigner({ db, production: false, logger });
  await createSealer({ db, store, signer, logger, sealEvery: 25, intervalMs: 0 }).runOnce();
  await rebuildProjections(db as unknown as Kysely<ProjectionTables>, store);
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
});

afterAll(async () => {
  await pool?.end();
  await store?.close();
  await db?.destroy();
  await database?.drop();
});

async function readAll(): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let after: string | undefined; ;) {
    const page = await store.readAll({ after, limit: 1000 });
    all.push(...page);
    if (page.length < 1000) return all;
    after = page.at(-1)!.checkpoint;
  }
}

describe('the audit read path', () => {
  it("gives exactly the store's readAll, in pages of the size asked", async () => {
    const expected = await readAll();
    expect(expected.length).toBeGreaterThan(3 * PAGE);
    const pages: RecordedEvent[][] = [];
    for await (const page of readEventPages(db, PAGE)) pages.push(page);
    expect(pages.slice(0, -1).every((page) => page.length === PAGE)).toBe(true);
    expect(pages.flat()).toEqual(expected);
  });

  it("gives as rows exactly the store's readAll and chain, in pages of the size asked", async () => {
    const expected = await readAll();
    const pages = [];
    for await (const page of eventRowPages(pool, PAGE)) pages.push(page);
    expect(pages.slice(0, -1).every((page) => page.length === PAGE)).toBe(true);
    const rows = pages.flat();
    expect(rows.map((row) => row[0])).toEqual(expected.map((event) => event.checkpoint));
    expect(rows.map((row, i) => chainedEventOfRow(i + 1, row))).toEqual(
      expected.map((event, i) => ({ seq: i + 1, ...canonicalEventOf(event) })),
    );
    const links = [];
    for await (const page of linkRowPages(pool, PAGE)) links.push(...page.map(chainRowOf));
    const viaKysely = [];
    for await (const page of chainPages(db as unknown as Kysely<AuditTables>, PAGE)) viaKysely.push(...page);
    expect(links.length).toBeGreaterThan(3 * PAGE);
    expect(links).toEqual(viaKysely);
  });

  it.each([
    ['through the query builder', false],
    ['as rows', true],
  ])('passes on the intact ledger with small pages, read %s', async (_name, rows) => {
    const report = await verifyDatabase({
      db,
      store,
      pinnedKey: signer.publicKey,
      pageSize: PAGE,
      ...(rows ? { pool } : {}),
    });
    expect(report.failureTexts()).toEqual([]);
    expect(report.render()).toMatch(/✓ account_balances matches the replay/);
  });

  it.each([
    ['the last event of a page', PAGE, false],
    ['the first event of the next page', PAGE + 1, false],
    ['the last event of a page (rows)', PAGE, true],
    ['the first event of the next page (rows)', PAGE + 1, true],
  ])('detects %s altered in place, naming it', async (_name, seq, rows) => {
    const link = await db
      .selectFrom('audit_chain')
      .select('event_id')
      .where('seq', '=', seq)
      .executeTakeFirstOrThrow();
    const before = await sql<{ metadata: unknown }>`
      select metadata from es_events where event_id = ${link.event_id}::uuid`.execute(db);
    await sql`update es_events set metadata = jsonb_set(metadata, '{edited}', 'true')
      where event_id = ${link.event_id}::uuid`.execute(db);
    try {
      const progress: number[] = [];
      const report = await verifyDatabase({
        db,
        store,
        pinnedKey: signer.publicKey,
        pageSize: PAGE,
        onProgress: (n) => progress.push(n),
        ...(rows ? { pool } : {}),
      });
      const failures = report.failureTexts().join('\n');
      expect(failures).toMatch(
        new RegExp(`seq ${seq} \\(\\S+ ${link.event_id} in .*hash does not match the event`),
      );
      expect(failures.match(/hash does not match/g)).toHaveLength(1);
      expect(progress.slice(0, 2)).toEqual([PAGE, 2 * PAGE]);
    } finally {
      await sql`update es_events set metadata = ${JSON.stringify(before.rows[0]!.metadata)}::jsonb
        where event_id = ${link.event_id}::uuid`.execute(db);
    }
    expect((await verifyDatabase({ db, store, pageSize: PAGE, ...(rows ? { pool } : {}) })).passed).toBe(
      true,
    );
  });
});
