import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, createLogger, migrateToLatest } from '@tessera/service-kit';
import { createTestDatabase } from '@tessera/service-kit/testing';
import { accountIds } from '../domain/accounts.ts';
import { createLedger } from '../engine/ledger.ts';
import type { LedgerEngine } from '../engine/types.ts';
import { rebuildProjections } from '../projections/projector.ts';
import { projectionMigrations, type ProjectionTables } from '../projections/schema.ts';
import type { EventStore } from '../store/event-store.ts';
import { createPostgresEventStore, postgresEventStoreMigrations } from '../store/postgres-store.ts';
import { createSealer } from './sealer.ts';
import { loadSealSigner, type SealSigner } from './seal-keys.ts';
import { publicKeyPem } from './seal.ts';
import type { AuditTables } from './tables.ts';
import { auditMigrations } from './tables.ts';
import { driveLedger, manualClock } from './testing/activity.ts';
import { verifyDatabase } from './verify-database.ts';
import { readLines, verifyExport } from './verify-file.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const run = promisify(execFile);
const logger = createLogger({ name: 'audit-test', level: 'silent', pretty: false });

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'services/ledger/scripts/audit.ts', ...args],
      { cwd: repoRoot, timeout: 60_000, env: { ...process.env, DATABASE_URL: '' } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

type DB = AuditTables & ProjectionTables;

let database: { url: string; drop(): Promise<void> };
let db: Kysely<DB>;
let store: EventStore;
let engine: LedgerEngine;
let signer: SealSigner;
let dir: string;
let userAccount: string;
const clock = manualClock();

const asProjections = (database: Kysely<DB>) => database as unknown as Kysely<ProjectionTables>;

async function chainSeqs(): Promise<number[]> {
  const rows = await db.selectFrom('audit_chain').select('seq').orderBy('seq').execute();
  return rows.map((r) => Number(r.seq));
}

async function eventCount(): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from es_events`.execute(db);
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  database = await createTestDatabase('ledger_audit');
  db = createDatabase<DB>(database.url);
  await migrateToLatest(db as Kysely<unknown>, {
    ...postgresEventStoreMigrations,
    ...projectionMigrations,
    ...auditMigrations,
  });
  store = await createPostgresEventStore({ db, notify: false });
  engine = createLedger(store, { clock: clock.now });
  const summary = await driveLedger(engine, { clock, rounds: 2, users: 3 });
  userAccount = [...summary.accounts].find((a) => a.startsWith('user:'))!;
  signer = await loadSealSigner({ db, production: false, logger });
  dir = await mkdtemp(path.join(tmpdir(), 'ledger-audit-'));
  await writeFile(path.join(dir, 'seal.pub'), publicKeyPem(signer.publicKey));
});

afterAll(async () => {
  await store?.close();
  await db?.destroy();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the sealer', () => {
  it('chains every event densely and seals every sealEvery events and the tail', async () => {
    const sealer = createSealer({ db, store, signer, logger, sealEvery: 20, intervalMs: 0 });
    const result = await sealer.runOnce();
    const total = await eventCount();
    expect(result).toMatchObject({ skipped: false, chained: total, tip: total });
    expect(await chainSeqs()).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const seals = await db.selectFrom('audit_seals').select('seq').orderBy('seq').execute();
    const expected = Array.from({ length: Math.floor(total / 20) }, (_, i) => (i + 1) * 20);
    if (total % 20 !== 0) expected.push(total);
    expect(seals.map((s) => Number(s.seq))).toEqual(expected);
    expect(await sealer.runOnce()).toMatchObject({ chained: 0, sealed: [] });
  });

  it('keeps the same development key across restarts', async () => {
    const again = await loadSealSigner({ db, production: false });
    expect(again.keyId).toBe(signer.keyId);
    await expect(loadSealSigner({ db, production: true })).rejects.toThrow(
      /LEDGER_SEAL_PRIVATE_KEY is required/,
    );
  });

  it('continues the dense sequence after a crash mid-run, a restart, and with two sealers at once', async () => {
    await driveLedger(engine, { clock, rounds: 1, users: 3, seed: 2 });
    let reads = 0;
    const crashing: EventStore = {
      ...store,
      async readAll(options) {
        reads += 1;
        if (reads === 2) throw new Error('crash');
        return store.readAll(options);
      },
    };
    const first = createSealer({
      db,
      store: crashing,
      signer,
      logger,
      sealEvery: 7,
      intervalMs: 0,
      batchSize: 5,
    });
    await expect(first.runOnce()).rejects.toThrow('crash');
    const partial = await chainSeqs();
    expect(partial.length).toBeLessThan(await eventCount());

    await driveLedger(engine, { clock, rounds: 1, users: 2, seed: 3 });
    const sealers = [1, 2].map(() =>
      createSealer({ db, store, signer, logger, sealEvery: 7, intervalMs: 0, batchSize: 5 }),
    );
    await Promise.all(sealers.map((s) => s.runOnce()));
    await sealers[0]!.runOnce();
    const total = await eventCount();
    expect(await chainSeqs()).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const links = await db
      .selectFrom('audit_chain')
      .select(['seq', 'hash', 'prev_hash'])
      .orderBy('seq')
      .execute();
    for (let i = 1; i < links.length; i += 1) expect(links[i]!.prev_hash).toBe(links[i - 1]!.hash);
    const last = await db
      .selectFrom('audit_seals')
      .select('seq')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    expect(Number(last?.seq)).toBe(total);
  });

  it('runs in the background until stopped', async () => {
    await driveLedger(engine, { clock, rounds: 1, users: 1, seed: 4 });
    const sealer = createSealer({ db, store, signer, logger, sealEvery: 1000, intervalMs: 50, pollMs: 20 });
    sealer.start();
    const total = await eventCount();
    // Chained, and the tail sealed by the interval (the next test verifies that the last event is).
    const lastSeal = async () =>
      Number(
        (
          await db
            .selectFrom('audit_seals')
            .select((eb) => eb.fn.max('seq').as('seq'))
            .executeTakeFirst()
        )?.seq ?? 0,
      );
    for (let i = 0; i < 400 && ((await chainSeqs()).length < total || (await lastSeal()) < total); i += 1)
      await new Promise((r) => setTimeout(r, 25));
    await sealer.stop();
    expect((await chainSeqs()).length).toBe(total);
    expect(await lastSeal()).toBe(total);
  });
});

describe('verify against the database', () => {
  it('passes: replay, chain, seals and the rebuilt projection all agree', async () => {
    await rebuildProjections(asProjections(db), store);
    const report = await verifyDatabase({ db, store, pinnedKey: signer.publicKey });
    expect(report.failureTexts()).toEqual([]);
    const text = report.render();
    expect(text).toMatch(
      /✓ account_balances matches the replay for \d+ accounts at its checkpoint \(seq \d+\)/,
    );
    expect(text).toMatch(/✓ \d+ seals verified/);
    expect(text).toContain('✓ the last event');
    // The log holds honeypot fees: platform:quality (an expense) ran a debit balance, verified clean.
    const quality = await db
      .selectFrom('account_balances')
      .select(['kind', 'debits_posted', 'credits_posted'])
      .where('account_id', '=', accountIds.platformQuality)
      .executeTakeFirstOrThrow();
    expect(quality.kind).toBe('platform_quality');
    expect(Number(quality.debits_posted)).toBeGreaterThan(Number(quality.credits_posted));
    const honeypotFunding = await db
      .selectFrom('transfers')
      .select('id')
      .where('code', '=', 'honeypot_funding')
      .execute();
    expect(honeypotFunding.length).toBeGreaterThan(0);
  });

  it('fails on a corrupted projection balance, naming the account', async () => {
    await db
      .updateTable('account_balances')
      .set((eb) => ({ credits_posted: eb('credits_posted', '+', 1) }))
      .where('account_id', '=', userAccount)
      .execute();
    const report = await verifyDatabase({ db, store });
    expect(report.passed).toBe(false);
    expect(report.failureTexts().join('\n')).toMatch(
      new RegExp(
        `account_balances differs[\\s\\S]*${userAccount}@USD: credits_posted \\d+ \\(replay \\d+\\)`,
      ),
    );
    await rebuildProjections(asProjections(db), store);
    expect((await verifyDatabase({ db, store })).passed).toBe(true);
  });

  it('compares only up to the projection checkpoint, ignoring events it has not projected yet', async () => {
    await driveLedger(engine, { clock, rounds: 1, users: 1, seed: 5 });
    const report = await verifyDatabase({ db, store, pinnedKey: signer.publicKey });
    expect(report.failureTexts()).toEqual([]);
    expect(report.render()).toMatch(/! \d+ events after seq \d+ not chained yet/);
    await createSealer({ db, store, signer, logger, intervalMs: 0 }).runOnce();
    await rebuildProjections(asProjections(db), store);
  });

  it('reports missing projection and audit tables as failures, not crashes', async () => {
    const bare = await createTestDatabase('ledger_audit_bare');
    const bareDb = createDatabase(bare.url);
    try {
      await migrateToLatest(bareDb, postgresEventStoreMigrations);
      const bareStore = await createPostgresEventStore({ db: bareDb, notify: false });
      await driveLedger(createLedger(bareStore), { clock: manualClock(), rounds: 1, users: 1 });
      const failures = (await verifyDatabase({ db: bareDb, store: bareStore })).failureTexts().join('\n');
      expect(failures).toMatch(/audit tables missing/);
      expect(failures).toMatch(
        /cannot compare with the projection: relation "projection_checkpoint" does not exist/,
      );
      await bareStore.close();
    } finally {
      await bareDb.destroy();
      await bare.drop();
    }
  });
});

// Each child process starts tsx and loads the store; on a busy machine that takes seconds.
const CLI_TIMEOUT = 180_000;

describe('the CLI, as a child process', { timeout: CLI_TIMEOUT }, () => {
  it('verify, keys, export, verify --file and balance all succeed on an intact ledger', async () => {
    const verify = await cli('verify', '--database-url', database.url);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/PASSED: 0 failed checks/);

    const keyFile = path.join(dir, 'keys.pem');
    expect((await cli('keys', '--database-url', database.url, '--out', keyFile)).code).toBe(0);
    expect(await readFile(keyFile, 'utf8')).toContain(signer.keyId);

    const file = path.join(dir, 'ledger.ndjson');
    const exported = await cli('export', '--database-url', database.url, '--out', file);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(new RegExp(`exported ${await eventCount()} events`));

    const offline = await cli('verify', '--file', file, '--public-key', path.join(dir, 'seal.pub'));
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('(pinned by the auditor)');

    const balance = await cli(
      'balance',
      '--database-url',
      database.url,
      '--account',
      userAccount,
      '--at',
      '40',
    );
    expect(balance.code).toBe(0);
    expect(balance.stdout).toMatch(/Balance of user:.* at seq 40/);
    const json = await cli(
      'balance',
      '--file',
      file,
      '--account',
      userAccount,
      '--at',
      '2999-01-01',
      '--json',
    );
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      accounts: { currency: string; balances: Record<string, string> }[];
    };
    const account = await engine.getAccount(userAccount, 'USD');
    expect(parsed.accounts[0]?.balances.credits_posted).toBe(String(account?.credits_posted));
  });

  it('exits 2 on usage errors', async () => {
    const result = await cli('export');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/export needs --out FILE[\s\S]*Usage:/);
    expect((await cli('verify', '--bogus')).code).toBe(2);
  });
});

describe('an event edited in place in es_events', { timeout: CLI_TIMEOUT }, () => {
  it('is detected by verify (library and CLI), naming the event, and by verify --file on a new export', async () => {
    const target = await sql<{ event_id: string; stream: string; data: { amount: number } }>`
      select event_id::text as event_id, stream, data from es_events
      where type = 'transfer-created' and (data->>'amount')::bigint > 0 order by position limit 1 offset 3`.execute(
      db,
    );
    const row = target.rows[0]!;
    await sql`update es_events set data = jsonb_set(data, '{amount}', to_jsonb(${row.data.amount + 1}::bigint))
      where event_id = ${row.event_id}::uuid`.execute(db);

    const report = await verifyDatabase({ db, store, pinnedKey: signer.publicKey });
    const failures = report.failureTexts().join('\n');
    expect(failures).toContain(
      `(transfer-created ${row.event_id} in ${row.stream} at revision 0): hash does not match the event`,
    );
    // The replay sees the edit too: the entries no longer match the transfer.
    expect(failures).toMatch(new RegExp(`entry for transfer-created of transfer [0-9a-f-]+ on .* records`));

    const verify = await cli(
      'verify',
      '--database-url',
      database.url,
      '--public-key',
      path.join(dir, 'seal.pub'),
    );
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(row.event_id);
    expect(verify.stdout).toMatch(/FAILED: \d+ failed checks/);

    const file = path.join(dir, 'tampered.ndjson');
    const exported = await cli('export', '--database-url', database.url, '--out', file);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toContain(`event ${row.event_id} differs from the one chained`);
    const offline = await verifyExport({ lines: readLines(file), pinnedKey: signer.publicKey });
    expect(offline.failureTexts().join('\n')).toContain(
      `${row.event_id} in ${row.stream} at revision 0): hash does not match`,
    );
  });

  it('is detected when an event is deleted from the store', async () => {
    await sql`delete from es_events where position = (select max(position) from es_events where type = 'account-entry')`.execute(
      db,
    );
    const failures = (await verifyDatabase({ db, store })).failureTexts().join('\n');
    expect(failures).toMatch(
      /events were deleted, inserted or reordered in the store|past the store's last event/,
    );
  });
});
