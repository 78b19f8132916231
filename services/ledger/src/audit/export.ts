import type { Kysely } from 'kysely';
import type { EventStore, RecordedEvent } from '../store/event-store.ts';
import { canonicalize } from './canonical.ts';
import { type CanonicalEvent, canonicalEventOf, chainHash, eventParts, GENESIS_HASH } from './chain.ts';
import { EXPORT_FORMAT, EXPORT_VERSION, eventLine, headerLine, sealLine } from './export-format.ts';
import {
  canonicalEventOfRow,
  chainRowOf,
  type EventRow,
  eventRowPages,
  linkRowPages,
  type Queryable,
} from './pg-rows.ts';
import { loadPublicKeys, type TrustedKey } from './seal-keys.ts';
import {
  AUDIT_PAGE_SIZE,
  auditEventPages,
  type ChainRow,
  chainPages,
  PageCursor,
  type SealRow,
  sealPages,
} from './sources.ts';
import type { AuditTables } from './tables.ts';

type Pages<T> = AsyncIterable<readonly T[]> | Iterable<readonly T[]>;

/** Each source page by page (a single page will do), so that nothing awaits once per row. */
export interface ExportSources {
  keys: readonly TrustedKey[];
  /** The chain's links in seq order. */
  links: Pages<ChainRow>;
  /** The seals in seq order. */
  seals: Pages<SealRow>;
  /** The store's events in the global order: as the store gives them, or `es_events` rows. */
  events: Pages<RecordedEvent> | { rows: Pages<EventRow> };
}

export interface ExportSummary {
  events: number;
  seals: number;
  lastSeq: number;
  lastSealedSeq: number;
  /** Chained events the store no longer returns as they were chained (exported as they are now). */
  mismatches: string[];
}

type Write = (line: string) => Promise<void> | void;

/**
 * Writes the chained part of the log: the n-th chained link beside the n-th event of the store, as
 * the store returns it now, with the stored hashes. Nothing is corrected on the way: an event
 * changed since it was chained is exported changed, and `verify --file` reports it.
 */
export async function writeExport(
  sources: ExportSources,
  write: Write,
  createdAt = new Date(),
  onProgress?: (events: number) => void,
): Promise<ExportSummary> {
  await write(
    headerLine({
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      created_at: createdAt.toISOString(),
      hash_algorithm: 'SHA-256',
      canonicalization: 'RFC 8785',
      signature_algorithm: 'Ed25519',
      genesis_hash: GENESIS_HASH,
      public_keys: sources.keys.map((k) => ({ key_id: k.keyId, public_key: k.pem, created_at: k.createdAt })),
    }),
  );
  const summary: ExportSummary = { events: 0, seals: 0, lastSeq: 0, lastSealedSeq: 0, mismatches: [] };
  const fromRows = 'rows' in sources.events;
  const events = new PageCursor<RecordedEvent | EventRow>(
    'rows' in sources.events ? sources.events.rows : sources.events,
  );
  const seals = new PageCursor(sources.seals);
  pages: for await (const page of sources.links) {
    for (const link of page) {
      if (!events.ready) await events.fill();
      const item = events.take();
      if (!item) {
        summary.mismatches.push(
          `seq ${link.seq}: event ${link.event_id} is no longer in the store; export stops here`,
        );
        break pages;
      }
      const canonical = fromRows
        ? canonicalEventOfRow(item as EventRow)
        : canonicalEventOf(item as RecordedEvent);
      await write(exportedLine(link, canonical, summary));
      summary.events += 1;
      summary.lastSeq = link.seq;
      for (;;) {
        if (!seals.ready) await seals.fill();
        const seal = seals.peek();
        if (!seal || seal.seq > link.seq) break;
        seals.take();
        await write(sealLine(seal));
        summary.seals += 1;
        summary.lastSealedSeq = seal.seq;
      }
    }
    onProgress?.(summary.events);
  }
  return summary;
}

/** The export of a ledger database: its seal keys, chain, seals and event store. */
export async function exportLedger(options: {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  store: EventStore;
  write: Write;
  /** The pg pool behind `db`: a Postgres store's events are then read as rows (see verifyDatabase). */
  pool?: Queryable;
  pageSize?: number;
  createdAt?: Date;
  onProgress?: (events: number) => void;
}): Promise<ExportSummary> {
  const db = options.db as Kysely<AuditTables>;
  const { pageSize } = options;
  const sources: ExportSources = {
    keys: await loadPublicKeys(db),
    links: options.pool ? chainRowPages(options.pool, pageSize ?? AUDIT_PAGE_SIZE) : chainPages(db, pageSize),
    seals: sealPages(db, pageSize),
    events:
      options.pool && options.store.adapter === 'postgres'
        ? { rows: eventRowPages(options.pool, pageSize ?? AUDIT_PAGE_SIZE) }
        : auditEventPages(db, options.store, pageSize),
  };
  return writeExport(sources, options.write, options.createdAt, options.onProgress);
}

/**
 * The export line of `link` and the store's event there, noting in `summary` an event that is not
 * the one chained. The event is canonicalized once, for its hash and for its line.
 */
function exportedLine(link: ChainRow, event: CanonicalEvent, summary: ExportSummary): string {
  let parts: [string, string] | undefined;
  try {
    parts = eventParts(event);
  } catch {
    // Not canonical JSON: it cannot match its hash, and the line throws what it always threw.
  }
  if (event.id !== link.event_id) {
    summary.mismatches.push(
      `seq ${link.seq}: chained event ${link.event_id}, the store has ${event.id} there`,
    );
  } else if (
    !parts ||
    !hashMatches(link.prev_hash, `${parts[0]},"seq":${canonicalize(link.seq)},${parts[1]}`, link.hash)
  ) {
    summary.mismatches.push(`seq ${link.seq}: event ${event.id} differs from the one chained`);
  }
  if (!parts) return eventLine({ seq: link.seq, event, prev_hash: link.prev_hash, hash: link.hash });
  // eventLine's canonical JSON, members in their order: event, hash, prev_hash, seq.
  return (
    `{"event":${parts[0]},${parts[1]},"hash":${canonicalize(link.hash)},` +
    `"prev_hash":${canonicalize(link.prev_hash)},"seq":${canonicalize(link.seq)}}`
  );
}

function hashMatches(prevHash: string, text: string, hash: string): boolean {
  try {
    return chainHash(prevHash, text) === hash;
  } catch {
    return false;
  }
}

async function* chainRowPages(pool: Queryable, pageSize: number): AsyncGenerator<ChainRow[]> {
  for await (const page of linkRowPages(pool, pageSize)) yield page.map(chainRowOf);
}
