import { transferIdOf } from '../domain/accounts.ts';
import type { RecordedEvent } from '../store/event-store.ts';

/**
 * Tells read-after-write waiters of this process when the projector committed events of the
 * transfer they wait for, so that a waiter reads the projection once more instead of polling it.
 */
export interface ProjectedTransfers {
  /** The projector committed these events. */
  committed(events: readonly RecordedEvent[]): void;
  /** Resolves when a commit touches transfer `id`, or after `ms`; `cancel` stops waiting. */
  next(id: string, ms: number): { woken: Promise<void>; cancel(): void };
}

export function createProjectedTransfers(): ProjectedTransfers {
  const waiters = new Map<string, Set<() => void>>();
  return {
    committed(events) {
      for (const { stream } of events) {
        const id = transferIdOf(stream);
        const wake = id === undefined ? undefined : waiters.get(id);
        if (wake) for (const done of [...wake]) done();
      }
    },
    next(id, ms) {
      let done!: () => void;
      const woken = new Promise<void>((resolve) => {
        done = () => {
          clearTimeout(timer);
          const set = waiters.get(id);
          set?.delete(done);
          if (set?.size === 0) waiters.delete(id);
          resolve();
        };
        const timer = setTimeout(done, ms);
      });
      const set = waiters.get(id) ?? new Set();
      set.add(done);
      waiters.set(id, set);
      return { woken, cancel: done };
    },
  };
}
