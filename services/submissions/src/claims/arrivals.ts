import type { TesseraEvent } from '@tessera/contracts';
import type { InstanceSignals } from '@tessera/service-kit';

/**
 * Wakes hand-ins that wait for a claim (or its task) tasks has announced but this instance has not
 * stored yet. The tasks consumer notifies it after each commit. With `signals`, the id also goes to
 * every other instance of submissions (the instance that stored the claim is rarely the one whose
 * hand-in waits for it). A signal can be lost, so a waiting hand-in still looks on its own, less often.
 */
export interface ClaimArrivals {
  /**
   * True once `id` (a claim's or a task's) is notified; false after `ms`, or when `signal` aborts.
   * The waiter is removed either way.
   */
  waitFor(id: string, ms: number, signal?: AbortSignal): Promise<boolean>;
  /** Wakes this instance's waiters for `id`, and the other instances' through `signals`. */
  notify(id: string): void;
  /** Waiters registered now. */
  waiting(): number;
  /** Stops hearing the other instances. */
  close(): void;
}

/** The signal topic: a claim's or a task's id, stored by one instance. */
export const ARRIVAL_TOPIC = 'claim-arrived';
// What an id may be, checked before it is looked up: a signal is input like any other.
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function claimArrivals(signals?: InstanceSignals): ClaimArrivals {
  const waiters = new Map<string, Set<(arrived: boolean) => void>>();
  let count = 0;
  const wake = (id: string) => {
    const here = waiters.get(id.toLowerCase());
    if (here) for (const settle of [...here]) settle(true);
  };
  const stopHearing = signals?.listen(ARRIVAL_TOPIC, (payload) => {
    if (ID.test(payload)) wake(payload);
  });
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
      wake(id);
      // Every instance hears it, this one too: its waiters are gone by then.
      signals?.send(ARRIVAL_TOPIC, id.toLowerCase());
    },
    waiting: () => count,
    close: () => stopHearing?.(),
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
