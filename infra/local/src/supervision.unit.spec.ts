import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, PIDS_FILE, decideOnExit, restartDelay, writePids } from './supervision.ts';

const crashed = { stopping: false, ready: true, upForMs: 1_000, crashesBefore: 0 };

describe('restart backoff', () => {
  it('starts at 250 ms and doubles up to 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50, 5_000].map((n) => restartDelay(n))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000,
    ]);
  });

  it('follows the policy it is given', () => {
    const policy = { initialMs: 100, maxMs: 1_000, stableMs: 10 };
    expect([1, 2, 4, 5].map((n) => restartDelay(n, policy))).toEqual([100, 200, 800, 1_000]);
  });
});

describe('what the runner does when a child exits', () => {
  it('restarts a child that crashed after the platform was ready, sooner for a first crash', () => {
    expect(decideOnExit(crashed)).toEqual({ action: 'restart', delayMs: 250, crashes: 1 });
    expect(decideOnExit({ ...crashed, crashesBefore: 3 })).toEqual({
      action: 'restart',
      delayMs: 2_000,
      crashes: 4,
    });
  });

  it('counts a crash after a stable run as the first again', () => {
    const stable = { ...crashed, upForMs: DEFAULT_BACKOFF.stableMs, crashesBefore: 9 };
    expect(decideOnExit(stable)).toEqual({ action: 'restart', delayMs: 250, crashes: 1 });
    const short = { ...stable, upForMs: DEFAULT_BACKOFF.stableMs - 1 };
    expect(decideOnExit(short)).toEqual({ action: 'restart', delayMs: 5_000, crashes: 10 });
  });

  it('leaves alone a child stopped because the runner stops', () => {
    expect(decideOnExit({ ...crashed, stopping: true })).toEqual({ action: 'ignore' });
    expect(decideOnExit({ ...crashed, stopping: true, ready: false })).toEqual({ action: 'ignore' });
  });

  it('fails the start when a child dies before the platform was ready', () => {
    expect(decideOnExit({ ...crashed, ready: false })).toEqual({ action: 'fail' });
  });
});

describe('the pid file', () => {
  it('holds the latest pids, written whole, in a data directory it creates', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'local-pids-'));
    try {
      const dir = path.join(root, 'data');
      await writePids(dir, { runner: 1, processes: { tasks: 10 } });
      await writePids(dir, { runner: 1, processes: { tasks: 11, gateway: 12 } });
      expect(JSON.parse(await readFile(path.join(dir, PIDS_FILE), 'utf8'))).toEqual({
        runner: 1,
        processes: { tasks: 11, gateway: 12 },
      });
      expect(await readdir(dir)).toEqual([PIDS_FILE]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
