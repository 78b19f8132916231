import type { Kysely } from 'kysely';
import type { EventStore, RecordedEvent } from '../store/event-store.ts';
import { type CanonicalEvent, canonicalEventOf, GENESIS_HASH, hashEvent } from './chain.ts';
import { EXPORT_FORMAT, EXPORT_VERSION, eventLine, headerLine, sealLine } from './export-format.ts';
import { loadPublicKeys, type TrustedKey } from './seal-keys.ts';
import {
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
  /** The store's events in the global order. */
  events: Pages<RecordedEvent>;
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
  const events = new PageCursor(sources.events);
  const seals = new PageCursor(sources.seals);
  pages: for await (const page of sources.links) {
    for (const link of page) {
      if (!events.ready) await events.fill();
      const event = events.take();
      if (!event) {
        summary.mismatches.push(
          `seq ${link.seq}: event ${link.event_id} is no longer in the store; export stops here`,
        );
        break pages;
      }
      const canonical = canonicalEventOf(event);
      if (event.id !== link.event_id) {
        summary.mismatches.push(
          `seq ${link.seq}: chained event ${link.event_id}, the store has ${event.id} there`,
        );
      } else if (!hashMatches(link.prev_hash, link.seq, canonical, link.hash)) {
        summary.mismatches.push(`seq ${link.seq}: event ${event.id} differs from the one chained`);
      }
      await write(eventLine({ seq: link.seq, event: canonical, prev_hash: link.prev_hash, hash: link.hash }));
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
  pageSize?: number;
  createdAt?: Date;
  onProgress?: (events: number) => void;
}): Promise<ExportSummary> {
  const db = options.db as Kysely<AuditTables>;
  const { pageSize } = options;
  const sources: ExportSources = {
    keys: await loadPublicKeys(db),
    links: chainPages(db, pageSize),
    seals: sealPages(db, pageSize),
    events: auditEventPages(db, options.store, pageSize),
  };
  return writeExport(sources, options.write, options.createdAt, options.onProgress);
}

function hashMatches(prevHash: string, seq: number, event: CanonicalEvent, hash: string): boolean {
  try {
    return hashEvent(prevHash, seq, event) === hash;
  } catch {
    return false;
  }
}
