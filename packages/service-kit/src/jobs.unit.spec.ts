import { afterEach, describe, expect, it } from 'vitest';
import { jobTrigger, type PeriodicJob, startPeriodicJob } from './jobs.ts';
import { createLogger } from './logger.ts';

const logger = createLogger({ name: 'jobs-test', level: 'silent', pretty: false });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR = 3_600_000;

let job: PeriodicJob | undefined;
afterEach(async () => {
  await job?.stop();
  job = undefined;
});

/** A job whose interval never comes in a test: only pulls and full runs start it. */
function countingJob(counts: number[], options: { fullRunAt?: number; runMs?: number } = {}) {
  const trigger = jobTrigger();
  const runs: number[] = [];
  job = startPeriodicJob({
    name: 'test-job',
    intervalMs: HOUR,
    logger,
    trigger,
    ...(options.fullRunAt !== undefined ? { fullRunAt: options.fullRunAt } : {}),
    work: async () => {
      runs.push(Date.now());
      if (options.runMs) await sleep(options.runMs);
      return counts.shift() ?? 0;
    },
  });
  return { trigger, runs };
}

describe('a periodic job', () => {
  it('waits for its interval when nothing pulls it', async () => {
    const { runs } = countingJob([]);
    await sleep(100);
    expect(runs).toHaveLength(0);
  });

  it('runs at once when its trigger is pulled', async () => {
    const { trigger, runs } = countingJob([]);
    const pulledAt = Date.now();
    trigger.pull();
    await sleep(50);
    expect(runs).toHaveLength(1);
    expect(runs[0]! - pulledAt).toBeLessThan(40);
  });

  it('runs once more right after a run during which it was pulled, however often', async () => {
    const { trigger, runs } = countingJob([], { runMs: 60 });
    trigger.pull();
    await sleep(20);
    trigger.pull();
    trigger.pull();
    await sleep(250);
    expect(runs).toHaveLength(2);
  });

  it('runs again at once after a full run, until one is not full', async () => {
    const { trigger, runs } = countingJob([20, 20, 5, 20], { fullRunAt: 20 });
    trigger.pull();
    await sleep(150);
    // 20 and 20 were full; 5 was not, so the fourth waits for the interval.
    expect(runs).toHaveLength(3);
  });

  it('is no longer started by its trigger once stopped', async () => {
    const { trigger, runs } = countingJob([]);
    await job!.stop();
    trigger.pull();
    await sleep(50);
    expect(runs).toHaveLength(0);
  });
});
