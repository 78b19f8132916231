import type { Logger } from './logger.ts';

export interface PeriodicJob {
  /** Runs the work now (tests drive jobs by hand); waits for a run already under way first. */
  runNow(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs `work` every `intervalMs` until stopped, one run at a time, counting from the end of the
 * last run. A failed run is logged and the next one comes as usual. `work` returns how many things
 * it did, logged when not zero.
 */
export function startPeriodicJob(options: {
  name: string;
  intervalMs: number;
  logger: Logger;
  work: () => Promise<number>;
}): PeriodicJob {
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
