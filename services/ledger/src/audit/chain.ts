import { createHash } from 'node:crypto';
import type { JsonObject, RecordedEvent } from '../store/event-store.ts';
import { canonicalBytes } from './canonical.ts';

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

/** The bytes hashed for event `seq`: exactly the eight fields, whatever else `event` carries. */
export function eventBytes(seq: number, event: CanonicalEvent): Buffer {
  const { id, stream, revision, type, data, metadata, recorded_at } = event;
  return canonicalBytes({ seq, id, stream, revision, type, data, metadata, recorded_at });
}

export function chainHash(prevHash: string, bytes: Uint8Array): string {
  // Buffer.from(…, 'hex') silently stops at the first bad digit: never hash a malformed link.
  if (!isHexHash(prevHash)) {
    throw new TypeError(`previous hash is not 64 lowercase hex digits: ${JSON.stringify(prevHash)}`);
  }
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(bytes).digest('hex');
}

export function hashEvent(prevHash: string, seq: number, event: CanonicalEvent): string {
  return chainHash(prevHash, eventBytes(seq, event));
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
