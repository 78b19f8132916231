import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../../store/event-store.ts';
import { canonicalEventOf, type ChainedEvent } from '../chain.ts';

/** The store's global order as the chain numbers it: seq 1, 2, 3, ... */
export function chained(events: readonly RecordedEvent[]): ChainedEvent[] {
  return events.map((event, index) => ({ seq: index + 1, ...canonicalEventOf(event) }));
}

/** A deep copy with one change, for tampering. */
export function edited<T>(value: T, change: (copy: T) => void): T {
  const copy = structuredClone(value);
  change(copy);
  return copy;
}

export function uuid(): string {
  return randomUUID();
}
