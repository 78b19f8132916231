import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { EventStore } from '../store/event-store.ts';
import { createPostgresEventStore } from '../store/postgres-store.ts';
import { type BalanceAt, balanceAt, parsePointInTime } from './balance.ts';
import { type ChainedEvent, chainedEventOf } from './chain.ts';
import { type CliIo, defaultDatabaseUrl, EXIT, UsageError, type Values } from './cli.ts';
import { parseLine } from './export-format.ts';
import { exportLedger } from './export.ts';
import { noProgress, type Progress } from './progress.ts';
import { balanceFields } from './replay.ts';
import type { Report } from './report.ts';
import { parsePublicKey } from './seal.ts';
import { loadPublicKeys } from './seal-keys.ts';
import { auditEventPages } from './sources.ts';
import { isUndefinedTable } from './pg-errors.ts';
import type { AuditTables } from './tables.ts';
import { verifyDatabase } from './verify-database.ts';
import { readLines, verifyExport } from './verify-file.ts';

async function withLedger<T>(
  values: Values,
  io: CliIo,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  use: (db: Kysely<any>, store: EventStore, pool: pg.Pool) => Promise<T>,
): Promise<T> {
  // Not the kit's createDatabase: importing the kit (HTTP, NATS) would double the CLI's start-up time.
  const url = values['database-url'] ?? defaultDatabaseUrl(io.env);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const db = new Kysely<AuditTables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await pool.query('select 1').catch((error: unknown) => {
      throw new Error(`cannot use the ledger database ${redact(url)}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    const store = await createPostgresEventStore({ db, notify: false });
    try {
      return await use(db, store, pool);
    } finally {
      await store.close();
    }
  } finally {
    await db.destroy();
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

async function pinnedKey(values: Values): Promise<KeyObject | undefined> {
  const path = values['public-key'];
  if (path === undefined) return undefined;
  try {
    return parsePublicKey(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--public-key ${path}: ${(error as Error).message}`);
  }
}

function printReport(report: Report, io: CliIo): number {
  io.out(report.render());
  return report.passed ? EXIT.ok : EXIT.mismatch;
}

function progressOf(io: CliIo, label: string, total: number | undefined): Progress {
  return io.progress?.(label, total) ?? noProgress;
}

/** How many events the store holds, cheaply: the chain's length or the planner's row estimate. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function estimateEvents(db: Kysely<any>): Promise<number | undefined> {
  const { rows } = await sql<{ estimate: number | null }>`
    select reltuples::float8 as estimate from pg_class where oid = to_regclass('es_events')`.execute(db);
  const chained = await chainLength(db).catch(() => 0);
  const estimate = Math.max(rows[0]?.estimate ?? 0, chained);
  return estimate > 0 ? estimate : undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function chainLength(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ seq: number | null }>`select max(seq)::float8 as seq from audit_chain`.execute(
    db,
  );
  return rows[0]?.seq ?? 0;
}

export async function verify(values: Values, io: CliIo): Promise<number> {
  const key = await pinnedKey(values);
  if (values.file !== undefined) {
    if (values['database-url'] !== undefined)
      throw new UsageError('verify takes --file or --database-url, not both');
    const lines = readLines(values.file);
    const size = io.progress ? (await stat(values.file)).size : 0;
    const progress = progressOf(io, 'verify', undefined);
    const report = await verifyExport({
      lines,
      ...(key ? { pinnedKey: key } : {}),
      // The file's size over the bytes read so far scales the events read into a total.
      onProgress: (events) =>
        progress.update(
          events,
          lines.bytesRead > 0 ? Math.round((events * size) / lines.bytesRead) : undefined,
        ),
    });
    progress.finish();
    return printReport(report, io);
  }
  const report = await withLedger(values, io, async (db, store, pool) => {
    const progress = progressOf(io, 'verify', io.progress ? await estimateEvents(db) : undefined);
    const result = await verifyDatabase({
      db,
      store,
      pool,
      ...(key ? { pinnedKey: key } : {}),
      onProgress: (events) => progress.update(events),
    });
    progress.finish();
    return result;
  });
  return printReport(report, io);
}

/** Lines gathered into large writes: one write per line would cost more than making the line. */
function bufferedWriter(file: NodeJS.WritableStream) {
  let buffer: string[] = [];
  let size = 0;
  const flush = async () => {
    if (buffer.length === 0) return;
    const text = buffer.join('');
    buffer = [];
    size = 0;
    if (!file.write(text)) await once(file, 'drain');
  };
  return {
    write: async (line: string) => {
      buffer.push(line, '\n');
      size += line.length + 1;
      if (size >= 1 << 20) await flush();
    },
    flush,
  };
}

export async function exportCommand(values: Values, io: CliIo): Promise<number> {
  const target = values.out;
  if (!target) throw new UsageError('export needs --out FILE');
  const partial = `${target}.partial`;
  const file = createWriteStream(partial, { encoding: 'utf8' });
  const writer = bufferedWriter(file);
  try {
    const summary = await withLedger(values, io, async (db, store, pool) => {
      const progress = progressOf(
        io,
        'export',
        io.progress ? await chainLength(db).catch(() => undefined) : undefined,
      );
      const result = await exportLedger({
        db,
        store,
        pool,
        write: writer.write,
        onProgress: (n) => progress.update(n),
      });
      progress.finish();
      return result;
    });
    await writer.flush();
    file.end();
    await once(file, 'finish');
    await rename(partial, target);
    io.out(
      `exported ${summary.events} events (seq 1..${summary.lastSeq}) and ${summary.seals} seals to ${target}` +
        (summary.lastSealedSeq < summary.lastSeq
          ? `\nwarning: ${summary.lastSeq - summary.lastSealedSeq} events after the last seal (seq ${summary.lastSealedSeq}) are not signed yet`
          : ''),
    );
    if (summary.mismatches.length === 0) return EXIT.ok;
    io.err(
      `warning: the store no longer matches the chain:\n  ${summary.mismatches.slice(0, 20).join('\n  ')}`,
    );
    return EXIT.mismatch;
  } catch (error) {
    file.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}

async function* exportEvents(path: string): AsyncGenerator<ChainedEvent> {
  let header = true;
  for await (const page of readLines(path)) {
    for (const text of page) {
      if (text.trim() === '') continue;
      if (header) {
        header = false;
        continue;
      }
      const line = parseLine(text);
      if (line.kind === 'event') yield { seq: line.line.seq, ...line.line.event };
      else if (line.kind === 'invalid') throw new Error(`${path}: ${line.problem}`);
    }
  }
}

export async function balance(values: Values, io: CliIo): Promise<number> {
  const account = values.account;
  if (!account) throw new UsageError('balance needs --account ID');
  if (!values.at) throw new UsageError('balance needs --at <seq | ISO time>');
  const at = parsePointInTime(values.at);
  if (!at)
    throw new UsageError(`--at ${values.at}: neither a seq nor an ISO date or date-time with an offset`);
  const query = { account, currency: values.currency, at };
  let chainNote = '';
  let result: BalanceAt;
  if (values.file !== undefined) {
    result = await balanceAt(exportEvents(values.file), query);
    chainNote = `from ${values.file} (unverified: run verify --file to authenticate it)`;
  } else {
    result = await withLedger(values, io, async (db, store) => {
      chainNote = await chainStatus(db);
      let seq = 0;
      async function* events(): AsyncGenerator<ChainedEvent> {
        for await (const page of auditEventPages(db, store)) {
          for (const event of page) yield chainedEventOf(++seq, event);
        }
      }
      return balanceAt(events(), query);
    });
  }
  const disagreeing = result.accounts.some((a) => !a.agrees);
  if (values.json) {
    io.out(
      JSON.stringify(
        result,
        (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
        2,
      ),
    );
  } else {
    io.out(renderBalance(result, account, chainNote));
  }
  if (result.accounts.length === 0) {
    io.err(`no account ${account}${values.currency ? `@${values.currency}` : ''} at that point`);
    return EXIT.mismatch;
  }
  return disagreeing ? EXIT.mismatch : EXIT.ok;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function chainStatus(anyDb: Kysely<any>): Promise<string> {
  const db = anyDb as Kysely<AuditTables>;
  try {
    const chained = await db
      .selectFrom('audit_chain')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    const sealed = await db
      .selectFrom('audit_seals')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return `chain covers seq 1..${chained?.seq ?? 0}, sealed up to seq ${sealed?.seq ?? 0} (run verify to authenticate)`;
  } catch (error) {
    if (isUndefinedTable(error)) return 'no audit chain in this database';
    throw error;
  }
}

function renderBalance(result: BalanceAt, account: string, chainNote: string): string {
  const point = 'seq' in result.at ? `seq ${result.at.seq}` : result.at.time.toISOString();
  const asOf = result.asOf
    ? `${result.included} events replayed; last included: seq ${result.asOf.seq} (${result.asOf.id}, recorded ${result.asOf.recorded_at})`
    : 'no events at that point';
  const lines = [`Balance of ${account} at ${point}`, `  ${asOf}`, `  ${chainNote}`];
  for (const a of result.accounts) {
    const b = a.balances;
    lines.push(
      '',
      `${a.account_id}@${a.currency}  (${a.account ? `${a.account.kind}, owner ${a.account.owner ?? '-'}` : 'never opened'})`,
    );
    for (const field of balanceFields) lines.push(`  ${field.padEnd(16)} ${b[field]}`);
    lines.push(`  ${'posted net'.padEnd(16)} ${b.credits_posted - b.debits_posted}  (credits − debits)`);
    lines.push(
      `  ${'available'.padEnd(16)} ${b.credits_posted - b.debits_posted - b.debits_pending}  (net − pending debits)`,
    );
    lines.push(
      a.agrees
        ? '  ✓ entries and transfer replay agree'
        : '  ✗ entries and transfer replay DISAGREE: run verify',
    );
  }
  return lines.join('\n');
}

export async function keys(values: Values, io: CliIo): Promise<number> {
  const found = await withLedger(values, io, (db) => loadPublicKeys(db));
  if (found.length === 0) {
    io.err('no seal keys yet: the sealer has not run on this database');
    return EXIT.mismatch;
  }
  const text = found
    .map((k) => `# key_id ${k.keyId}, created ${k.createdAt ?? '?'}\n${k.pem.trim()}\n`)
    .join('\n');
  if (values.out) {
    await writeFile(values.out, text);
    io.out(`wrote ${found.length} public key(s) to ${values.out}`);
  } else io.out(text);
  return EXIT.ok;
}
