import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { EventStore } from '../store/event-store.ts';
import { type ChainedEvent, chainedEventOf } from './chain.ts';
import {
  chainedEventOfRow,
  type EventRow,
  eventRowPages,
  type LinkRow,
  linkRowPages,
  type Queryable,
} from './pg-rows.ts';
import { compareProjection, readProjection } from './projection.ts';
import { type AccountSnapshot, LedgerReplay } from './replay.ts';
import { Report, formatCount, plural } from './report.ts';
import { loadPublicKeys, type TrustedKey, trustedKey } from './seal-keys.ts';
import {
  AUDIT_PAGE_SIZE,
  auditEventPages,
  type ChainRow,
  chainPages,
  PageCursor,
  sealPages,
} from './sources.ts';
import { isUndefinedTable } from './pg-errors.ts';
import type { AuditTables } from './tables.ts';
import { ChainChecker } from './verify.ts';

export interface VerifyDatabaseOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  store: EventStore;
  /** The auditor's copy of the seal key; without it the keys in `audit_seal_keys` are trusted. */
  pinnedKey?: KeyObject;
  /**
   * The pg pool (or client) behind `db`: with it, a Postgres store's tables are read without the
   * query builder, rows as arrays of text (src/audit/pg-rows.ts). Without it, through `db`.
   */
  pool?: Queryable;
  pageSize?: number;
  /** Called after each page with the number of events read so far. */
  onProgress?: (events: number) => void;
}

/**
 * The full audit of a running ledger: every event as the store returns it now is replayed, checked
 * against the hash chain (so an event edited in place no longer matches its chained hash) and the
 * seals, and the replay is compared with the projection at the projection's own checkpoint.
 */
export async function verifyDatabase(options: VerifyDatabaseOptions): Promise<Report> {
  const db = options.db as Kysely<AuditTables>;
  const { pageSize } = options;
  const report = new Report('Tessera ledger audit: database');

  let stored: TrustedKey[] = [];
  let auditTables = true;
  try {
    stored = await loadPublicKeys(db);
  } catch (error) {
    if (!isUndefinedTable(error)) throw error;
    auditTables = false;
  }
  const checker = new ChainChecker(
    options.pinnedKey
      ? { keys: [trustedKey(options.pinnedKey)], pinned: true, source: 'the auditor' }
      : { keys: stored, pinned: false, source: 'audit_seal_keys' },
  );
  const projection = await readProjection(db);
  const rows = options.pool && options.store.adapter === 'postgres' ? options.pool : undefined;
  const size = pageSize ?? AUDIT_PAGE_SIZE;
  const links = new PageCursor<LinkRow>(
    !auditTables ? undefined : rows ? linkRowPages(rows, size) : linkTuples(chainPages(db, size)),
  );
  const seals = new PageCursor(auditTables ? sealPages(db, pageSize) : undefined);

  // One pass: each event is hashed against its link, checked against the seals, and replayed.
  const replay = new LedgerReplay();
  let replayed: { seq: number; accounts: Map<string, AccountSnapshot> } | undefined =
    projection.ok && projection.checkpoint === null ? { seq: 0, accounts: new Map() } : undefined;
  const wantedCheckpoint = projection.ok ? projection.checkpoint : null;
  let seq = 0;
  let unchained = 0;
  let aligned = true;

  async function pass<T>(
    pages: AsyncIterable<readonly T[]>,
    eventOf: (seq: number, item: T) => ChainedEvent,
    checkpointOf: (item: T) => string,
  ): Promise<void> {
    for await (const page of pages) {
      for (let i = 0; i < page.length; i += 1) {
        const item = page[i]!;
        seq += 1;
        const chained = eventOf(seq, item);
        const checkpoint = checkpointOf(item);
        replay.apply(chained);
        if (checkpoint === wantedCheckpoint) replayed = { seq, accounts: replay.snapshot() };
        if (!aligned) continue;
        // Awaits only once a page: `take` and `peek` answer at once while the page lasts.
        if (!links.ready) await links.fill();
        const link = links.take();
        if (!link) {
          unchained += 1;
          continue;
        }
        const linkSeq = Number(link[0]);
        if (linkSeq !== seq) {
          checker.links.add(
            `audit_chain has seq ${linkSeq} where seq ${seq} was expected: links were deleted`,
          );
          aligned = false;
        } else if (link[1] !== chained.id) {
          checker.links.add(
            `seq ${seq}: the chain has event ${link[1]} there, the store has ${chained.id} (${chained.stream}): ` +
              'events were deleted, inserted or reordered in the store',
          );
          aligned = false;
        } else {
          if (link[2] !== checkpoint) {
            checker.links.add(`seq ${seq}: chained at checkpoint ${link[2]}, now at ${checkpoint}`);
          }
          checker.link(seq, chained, link[4], link[3]);
          for (;;) {
            if (!seals.ready) await seals.fill();
            const seal = seals.peek();
            if (!seal || seal.seq > seq) break;
            seals.take();
            checker.seal(seal);
          }
        }
      }
      options.onProgress?.(seq);
    }
  }

  if (rows) await pass(eventRowPages(rows, size), chainedEventOfRow, (row: EventRow) => row[0]);
  else {
    await pass(auditEventPages(db, options.store, pageSize), chainedEventOf, (event) => event.checkpoint);
  }

  let orphanLinks = 0;
  for (;;) {
    await links.fill();
    if (!links.take()) break;
    orphanLinks += 1;
  }
  if (orphanLinks > 0 && aligned) {
    checker.links.add(
      `audit_chain has ${plural(orphanLinks, 'link')} past the store's last event (seq ${seq}): events were deleted from the store`,
    );
  }
  let orphanSeals = 0;
  for (;;) {
    await seals.fill();
    if (!seals.take()) break;
    orphanSeals += 1;
  }
  if (orphanSeals > 0 && aligned)
    checker.seals.add(`${plural(orphanSeals, 'seal')} past the end of the chain`);

  const source = report.section('Source');
  source.info(`${plural(seq, 'event')} read from the ${options.store.adapter} event store`);
  if (!auditTables) source.fail('audit tables missing: the 0200_* migrations have not run on this database');
  else if (await holdsPrivateKey(db)) {
    source.warn(
      'a development seal key is stored in this database with its private half: ' +
        'whoever can write the database can forge seals (set LEDGER_SEAL_PRIVATE_KEY in production)',
    );
  }
  if (!aligned) source.warn('chain comparison stopped at the first misplaced event; the replay went on');
  checker.report(report, { strictSeals: false });
  if (unchained > 0) {
    report
      .section('Hash chain')
      .warn(
        `${plural(unchained, 'event')} after seq ${formatCount(seq - unchained)} not chained yet (the sealer is behind)`,
      );
  }
  replay.report(report);
  compareProjection(report, projection, replayed);
  return report;
}

async function holdsPrivateKey(db: Kysely<AuditTables>): Promise<boolean> {
  const row = await db
    .selectFrom('audit_seal_keys')
    .select('key_id')
    .where('private_key', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

async function* linkTuples(pages: AsyncIterable<readonly ChainRow[]>): AsyncGenerator<LinkRow[]> {
  for await (const page of pages) {
    yield page.map((l): LinkRow => [String(l.seq), l.event_id, l.checkpoint, l.hash, l.prev_hash]);
  }
}
