import { createHash, hash as oneShotHash } from 'node:crypto';
import type { JsonObject, RecordedEvent } from '../store/event-store.ts';
import { CanonicalizationError, canonicalBytes, canonicalize } from './canonical.ts';

/**
 * The hash chain over the store's global order: event n (n = 1, 2, 3, ... with no gaps) is hashed as
 * `hash_n = SHA-256(hash_{n-1} || canonical_bytes(n, event_n))` with `hash_0` 32 zero bytes, where
 * `||` joins the 32 raw bytes of the previous hash to the event's canonical JSON (see canonical.ts)
 * of `{seq, id, stream, revision, type, data, metadata, recorded_at}`. Hashes are written as
 * lowercase hex.
 */

export const GENESIS_HASH = '0'.repeat(64);
const HEX_HASH = /^[0-9a-f]{64}$/;

/** An event as the chain sees it: the store's fields, the time as an ISO-8601 UTC string. */
export interface CanonicalEvent {
  id: string;
  stream: string;
  revision: number;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  /** `Date.prototype.toISOString()`: `YYYY-MM-DDTHH:mm:ss.sssZ`. */
  recorded_at: string;
}

export interface ChainedEvent extends CanonicalEvent {
  seq: number;
}

export function isHexHash(value: unknown): boolean {
  return typeof value === 'string' && HEX_HASH.test(value);
}

export function canonicalEventOf(event: RecordedEvent): CanonicalEvent {
  return {
    id: event.id,
    stream: event.stream,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recorded_at: event.recordedAt.toISOString(),
  };
}

/** An event of the store numbered as the chain numbers it (`seq`), in one object. */
export function chainedEventOf(seq: number, event: RecordedEvent): ChainedEvent {
  return {
    seq,
    id: event.id,
    stream: event.stream,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recorded_at: event.recordedAt.toISOString(),
  };
}

/** The bytes hashed for event `seq`: exactly the eight fields, whatever else `event` carries. */
export function eventBytes(seq: number, event: CanonicalEvent): Buffer {
  const { id, stream, revision, type, data, metadata, recorded_at } = event;
  return canonicalBytes({ seq, id, stream, revision, type, data, metadata, recorded_at });
}

/**
 * `eventBytes` as text, built member by member in their canonical order (data, id, metadata,
 * recorded_at, revision, seq, stream, type) instead of sorting a new object per event. A value that
 * cannot be canonicalized throws what `eventBytes` throws.
 */
export function eventText(seq: number, event: CanonicalEvent): string {
  try {
    return (
      `{"data":${canonicalize(event.data)},"id":${canonicalize(event.id)},` +
      `"metadata":${canonicalize(event.metadata)},"recorded_at":${canonicalize(event.recorded_at)},` +
      `"revision":${canonicalize(event.revision)},"seq":${canonicalize(seq)},` +
      `"stream":${canonicalize(event.stream)},"type":${canonicalize(event.type)}}`
    );
  } catch (error) {
    if (error instanceof CanonicalizationError) eventBytes(seq, event);
    throw error;
  }
}

/**
 * The canonical text of an event's seven stored members, cut where the chain inserts `seq`: the
 * hashed text is `${head},"seq":${seq},${tail}` and the export's `event` member `${head},${tail}`,
 * so both are built from one canonicalization. Throws what `eventText` throws.
 */
export function eventParts(event: CanonicalEvent): [head: string, tail: string] {
  return [
    `{"data":${canonicalize(event.data)},"id":${canonicalize(event.id)},` +
      `"metadata":${canonicalize(event.metadata)},"recorded_at":${canonicalize(event.recorded_at)},` +
      `"revision":${canonicalize(event.revision)}`,
    `"stream":${canonicalize(event.stream)},"type":${canonicalize(event.type)}}`,
  ];
}

export function chainHash(prevHash: string, bytes: Uint8Array | string): string {
  // Buffer.from(…, 'hex') silently stops at the first bad digit: never hash a malformed link.
  if (!isHexHash(prevHash)) {
    throw new TypeError(`previous hash is not 64 lowercase hex digits: ${JSON.stringify(prevHash)}`);
  }
  if (typeof bytes === 'string') return hashText(prevHash, bytes);
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(bytes).digest('hex');
}

let scratch = Buffer.allocUnsafe(1 << 16);

/**
 * SHA-256 of the previous hash's 32 bytes and `text` in UTF-8, for a `prevHash` already known to be
 * 64 hex digits: both written into one reused buffer and hashed in one call, which costs a third
 * of a Hash object per event.
 */
function hashText(prevHash: string, text: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count the bytes only when that bound does not fit.
  if (32 + text.length * 3 > scratch.length) {
    const needed = 32 + Buffer.byteLength(text, 'utf8');
    if (needed > scratch.length) scratch = Buffer.allocUnsafe(Math.max(needed, scratch.length * 2));
  }
  scratch.write(prevHash, 0, 'hex');
  const length = 32 + scratch.write(text, 32, 'utf8');
  return oneShotHash('sha256', scratch.subarray(0, length), 'hex');
}

export function hashEvent(prevHash: string, seq: number, event: CanonicalEvent): string {
  return chainHash(prevHash, eventText(seq, event));
}

/** `hashEvent` for a `prevHash` the caller has checked with `isHexHash`. */
export function hashEventAfter(checkedPrevHash: string, seq: number, event: CanonicalEvent): string {
  return hashText(checkedPrevHash, eventText(seq, event));
}

export interface ChainLink {
  seq: number;
  event_id: string;
  checkpoint: string;
  prev_hash: string;
  hash: string;
}

/** Chains `events` (in the global order) onto the link `tip` (undefined: the start of the chain). */
export function chainEvents(
  tip: { seq: number; hash: string } | undefined,
  events: readonly RecordedEvent[],
): ChainLink[] {
  let seq = tip?.seq ?? 0;
  let prev = tip?.hash ?? GENESIS_HASH;
  return events.map((event) => {
    seq += 1;
    const hash = hashEvent(prev, seq, canonicalEventOf(event));
    const link = { seq, event_id: event.id, checkpoint: event.checkpoint, prev_hash: prev, hash };
    prev = hash;
    return link;
  });
}
