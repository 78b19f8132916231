import type { TesseraEvent } from '@tessera/contracts';

/**
 * Wakes hand-ins that wait for a claim (or its task) tasks has announced but this process has not
 * stored yet. The tasks consumer notifies it after each commit. In this process only: a claim
 * another instance stores wakes nobody here, so a waiting hand-in still looks on its own, less often.
 */
export interface ClaimArrivals {
  /**
   * True once `id` (a claim's or a task's) is notified; false after `ms`, or when `signal` aborts.
   * The waiter is removed either way.
   */
  waitFor(id: string, ms: number, signal?: AbortSignal): Promise<boolean>;
  notify(id: string): void;
  /** Waiters registered now. */
  waiting(): number;
}

export function claimArrivals(): ClaimArrivals {
  const waiters = new Map<string, Set<(arrived: boolean) => void>>();
  let count = 0;
  return {
    waitFor(id, ms, signal) {
      if (ms <= 0 || signal?.aborted) return Promise.resolve(false);
      const key = id.toLowerCase();
      return new Promise((resolve) => {
        const settle = (arrived: boolean) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', gone);
          const here = waiters.get(key);
          if (here?.delete(settle)) count -= 1;
          if (here?.size === 0) waiters.delete(key);
          resolve(arrived);
        };
        const gone = () => settle(false);
        const timer = setTimeout(gone, ms);
        signal?.addEventListener('abort', gone, { once: true });
        const here = waiters.get(key) ?? new Set();
        waiters.set(key, here.add(settle));
        count += 1;
      });
    },
    notify(id) {
      const here = waiters.get(id.toLowerCase());
      if (here) for (const settle of [...here]) settle(true);
    },
    waiting: () => count,
  };
}

/** What a tasks event, once committed, lets a waiting hand-in find: its claim, or its claim's task. */
export function arrivalOf(event: TesseraEvent): string | undefined {
  switch (event.type) {
    case 'tasks.assignment.claimed.v1':
      return event.data.assignment_id;
    case 'tasks.task.published.v1':
    case 'tasks.task.updated.v1':
      return event.data.task_id;
    default:
      return undefined;
  }
}
