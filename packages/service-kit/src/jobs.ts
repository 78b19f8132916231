import { isDatabaseUnavailable, isTransientConflict } from './db/pg-errors.ts';
import { createLogger, type Logger } from './logger.ts';
import type { AnyDatabase } from './db/kit-migrations.ts';
import type { JobMetrics } from './metrics/service-metrics.ts';
import { failuresOf, forgetFailures, PARK_AFTER_FAILURES, recordFailure } from './parked-items.ts';

/** Something a service runs beside its HTTP routes: a consumer, a periodic job, a projector, a sealer. */
export interface Worker {
  /** Unique within the service; tests switch a worker off by this name to drive its work by hand. */
  name: string;
  /** Starts the work; the kit starts workers after the routes are ready and before it listens. */
  start(logger: Logger): Promise<Running> | Running;
}

export interface Running {
  stop(): Promise<void>;
}

export interface PeriodicJob extends Running {
  /** Runs the work now (tests drive jobs by hand); waits for a run already under way first. */
  runNow(): Promise<number>;
}

export interface PeriodicJobOptions {
  name: string;
  intervalMs: number;
  /** Returns how many things it did (logged when not zero). */
  work: () => Promise<number>;
  /**
   * A run that did at least this many things may have left more waiting (it works in bounded
   * runs): the next run starts at once instead of after the interval.
   */
  fullRunAt?: number;
  /** Starts a run as soon as it is pulled (new work was committed), not at the next interval. */
  trigger?: JobTrigger;
}

/**
 * How the code that commits new work tells a job to look now: `pull()` after the commit. A pull
 * during a run starts another run right after it (the new work may have come too late for it).
 * In-process only: another instance of the service finds the work at its next interval.
 */
export interface JobTrigger {
  pull(): void;
  /** Returns the unsubscribe. */
  onPull(listener: () => void): () => void;
}

export function jobTrigger(): JobTrigger {
  const listeners = new Set<() => void>();
  return {
    pull: () => {
      for (const listener of listeners) listener();
    },
    onPull(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Runs `work` every `intervalMs` until stopped, one run at a time, counting from the end of the
 * last run; at once after a full run (`fullRunAt`) or a pull of its trigger. A failed run is
 * logged and the next one comes as usual.
 */
export function startPeriodicJob(options: PeriodicJobOptions & { logger: Logger }): PeriodicJob {
  const { name, logger, work } = options;
  let stopped = false;
  let running: Promise<number> = Promise.resolve(0);
  let timer: NodeJS.Timeout | undefined;
  /** A tick is under way (its run, then the scheduling of the next). */
  let ticking = false;
  /** Pulled while a tick was under way: the next one starts at once. */
  let pulled = false;
  const run = (): Promise<number> => {
    running = running
      .catch(() => 0)
      .then(() => work())
      .then((count) => {
        if (count > 0) logger.info({ job: name, count }, `${name}: done`);
        return count;
      });
    return running;
  };
  const tick = () => {
    ticking = true;
    pulled = false;
    let full = false;
    run()
      .then((count) => void (full = options.fullRunAt !== undefined && count >= options.fullRunAt))
      .catch((error: unknown) => logger.error({ err: error, job: name }, `${name} failed`))
      .finally(() => {
        ticking = false;
        if (stopped) return;
        timer = setTimeout(tick, full || pulled ? 0 : options.intervalMs);
      });
  };
  const unsubscribe = options.trigger?.onPull(() => {
    if (stopped) return;
    if (ticking) {
      pulled = true;
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(tick, 0);
  });
  timer = setTimeout(tick, options.intervalMs);
  return {
    runNow: run,
    async stop() {
      stopped = true;
      unsubscribe?.();
      clearTimeout(timer);
      await running.catch(() => 0);
    },
  };
}

/** A periodic job as a worker: the kit starts and stops it with the service. */
export function periodicJob(options: PeriodicJobOptions): Worker {
  return { name: options.name, start: (logger) => startPeriodicJob({ ...options, logger }) };
}

/**
 * Handles a run's items one by one, each on its own: an item whose handling throws is logged (with
 * `describe(item)`) and the run goes on with the next, so that one bad row cannot hold up the rows
 * behind it (ordered by time, it would come first again at every run). The database being
 * unreachable still ends the run: every item would fail the same way. Returns what the handled
 * items answered, in order.
 *
 * With `counted.park`, failures are also kept per item (parked-items.ts): an item that fails
 * `after` times in a row is parked, and the job's query leaves it out with `notParked`, so that
 * enough bad items cannot fill every run either. An item handled successfully forgets its failures.
 */
export async function eachOnItsOwn<T, R>(
  items: Iterable<T>,
  handle: (item: T) => Promise<R>,
  failed: {
    /** Without one (a test or script calling the job by hand), a shared `jobs` logger at warn. */
    logger?: Logger | undefined;
    message: string;
    describe: (item: T) => Record<string, unknown>;
    /** Counted as `tessera_job_item_failures_total{job}`, which operators can alert on. */
    counted?: {
      job: string;
      metrics: JobMetrics;
      park?: { db: AnyDatabase; key: (item: T) => string; after?: number };
    };
  },
): Promise<R[]> {
  const list = [...items];
  const logger = failed.logger ?? fallbackLogger();
  const counted = failed.counted;
  const park = counted?.park;
  // The parking's own reads and writes: a failure of theirs is logged, never the end of the run
  // (unless the database is gone).
  const keeping = async <V>(work: Promise<V>, fallback: V, details: object, message: string) => {
    try {
      return await work;
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      logger.error({ ...details, err: error }, message);
      return fallback;
    }
  };
  const failing = park
    ? await keeping(
        failuresOf(park.db, counted.job, list.map(park.key)),
        new Map<string, number>(),
        {},
        "could not read a job's item failures",
      )
    : new Map<string, number>();
  const answers: R[] = [];
  for (const item of list) {
    try {
      answers.push(await handle(item));
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      logger.error({ ...failed.describe(item), err: error }, failed.message);
      if (!counted) continue;
      counted.metrics.itemFailed(counted.job);
      // A deadlock or a serialization failure is another transaction's timing, not the item's fault.
      if (!park || isTransientConflict(error)) continue;
      const after = park.after ?? PARK_AFTER_FAILURES;
      const recorded = await keeping(
        recordFailure(park.db, counted.job, park.key(item), error, after),
        undefined,
        failed.describe(item),
        "could not count a job item's failure",
      );
      if (recorded?.parked && recorded.failures === after) {
        counted.metrics.itemParked(counted.job);
        logger.error(
          { ...failed.describe(item), job: counted.job, failures: recorded.failures },
          'a job item failed too often in a row and is parked until an operator retries it',
        );
      }
      continue;
    }
    if (park && failing.has(park.key(item))) {
      await keeping(
        forgetFailures(park.db, counted.job, park.key(item)),
        undefined,
        failed.describe(item),
        "could not forget a job item's failures",
      );
    }
  }
  return answers;
}

/**
 * `eachOnItsOwn`'s `counted`, parking items by `key` (spread into its options): for a job whose
 * due-items query leaves out what it parked with `notParked(counted.job, …)`.
 */
export function countedAndParked<T>(
  counted: { job: string; metrics: JobMetrics } | undefined,
  db: AnyDatabase,
  key: (item: T) => string,
): { counted?: { job: string; metrics: JobMetrics; park: { db: AnyDatabase; key: (item: T) => string } } } {
  return counted ? { counted: { ...counted, park: { db, key } } } : {};
}

let fallback: Logger | undefined;
function fallbackLogger(): Logger {
  fallback ??= createLogger({ name: 'jobs', level: 'warn', pretty: false });
  return fallback;
}
