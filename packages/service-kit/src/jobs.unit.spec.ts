import { afterEach, describe, expect, it } from 'vitest';
import { eachOnItsOwn, jobTrigger, type PeriodicJob, startPeriodicJob } from './jobs.ts';
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

describe('the items of a run, each on its own', () => {
  /** A logger that keeps what was logged at error level. */
  function recording() {
    const errors: Record<string, unknown>[] = [];
    const log = createLogger({ name: 'each-test', level: 'error', pretty: false });
    log.error = ((object: Record<string, unknown>, message: string) => {
      errors.push({ ...object, message });
    }) as typeof log.error;
    return { log, errors };
  }

  it('goes on past an item that throws, logging it, and answers for the others in order', async () => {
    const { log, errors } = recording();
    const handled: number[] = [];
    const counted: string[] = [];
    const answers = await eachOnItsOwn(
      [1, 2, 3, 4],
      async (n) => {
        handled.push(n);
        if (n === 2) throw new Error('a bad row');
        return n * 10;
      },
      {
        logger: log,
        message: 'could not handle an item',
        describe: (n) => ({ item: n }),
        counted: {
          job: 'test-job',
          metrics: { itemFailed: (job) => counted.push(job), itemParked: () => undefined },
        },
      },
    );
    expect(counted).toEqual(['test-job']);
    expect(handled).toEqual([1, 2, 3, 4]);
    expect(answers).toEqual([10, 30, 40]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ item: 2, message: 'could not handle an item' });
    expect((errors[0]!.err as Error).message).toBe('a bad row');
  });

  it('ends the run when the database cannot be reached: the rest would fail the same', async () => {
    const { log, errors } = recording();
    const handled: number[] = [];
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await expect(
      eachOnItsOwn(
        [1, 2, 3],
        async (n) => {
          handled.push(n);
          if (n === 2) throw down;
          return n;
        },
        { logger: log, message: 'x', describe: (n) => ({ item: n }) },
      ),
    ).rejects.toBe(down);
    expect(handled).toEqual([1, 2]);
    expect(errors).toEqual([]);
  });
});
