import type { Logger } from './logger.ts';

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
}

/**
 * Runs `work` every `intervalMs` until stopped, one run at a time, counting from the end of the
 * last run. A failed run is logged and the next one comes as usual.
 */
export function startPeriodicJob(options: PeriodicJobOptions & { logger: Logger }): PeriodicJob {
  const { name, logger, work } = options;
  let stopped = false;
  let running: Promise<number> = Promise.resolve(0);
  let timer: NodeJS.Timeout | undefined;
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
    run()
      .catch((error: unknown) => logger.error({ err: error, job: name }, `${name} failed`))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs);
      });
  };
  timer = setTimeout(tick, options.intervalMs);
  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running.catch(() => 0);
    },
  };
}

/** A periodic job as a worker: the kit starts and stops it with the service. */
export function periodicJob(options: PeriodicJobOptions): Worker {
  return { name: options.name, start: (logger) => startPeriodicJob({ ...options, logger }) };
}
