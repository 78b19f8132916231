/**
 * An in-process lock per key. A holder of several keys queues on all of them at once (in one
 * synchronous step), so two holders of overlapping keys are always queued in the same order and
 * cannot deadlock. It only spares same-process writers a storm of optimistic-concurrency retries;
 * the store's expected revisions remain the guarantee across processes.
 */
export interface KeyedLock {
  run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T>;
  /** Keys someone holds or waits for (for tests). */
  size(): number;
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>();

  async function run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const waits: Promise<void>[] = [];
    const releases: (() => void)[] = [];
    for (const key of new Set(keys)) {
      const previous = tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => held);
      tails.set(key, tail);
      waits.push(previous);
      releases.push(() => {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      });
    }
    try {
      await Promise.all(waits);
      return await work();
    } finally {
      for (const release of releases) release();
    }
  }

  return { run, size: () => tails.size };
}
