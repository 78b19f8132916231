import type { TransferRecord } from '../domain/transfer-state.ts';
import type { Versioned } from './batch.ts';

/**
 * Transfers the writer recorded or read lately, so that a retry is answered and a pending transfer
 * resolved without a read. A transfer it does not hold is taken as new: the append's `no_stream`
 * on the transfer's stream refuses it if it was recorded after all (by another instance, or before
 * a restart), and the writer then reads it and decides again.
 */
export interface TransferCache {
  get(id: string): Versioned<TransferRecord>;
  put(id: string, record: TransferRecord, revision: number): void;
  forget(id: string): void;
}

export function createTransferCache(limit: number): TransferCache {
  const entries = new Map<string, { record: TransferRecord; revision: number }>();
  return {
    get(id) {
      const entry = entries.get(id);
      return entry ? { state: entry.record, revision: entry.revision } : { state: undefined, revision: -1 };
    },
    put(id, record, revision) {
      const current = entries.get(id);
      if (current && current.revision > revision) return;
      entries.delete(id);
      entries.set(id, { record, revision });
      if (entries.size > limit) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
    },
    forget(id) {
      entries.delete(id);
    },
  };
}
