import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stopRunner } from './processes.ts';

/**
 * Where the e2e files' shared platform leaves its gateway URL, runner pid and output: in the
 * environment rather than vitest's `provide`, so that a script a spec runs as a child process (the
 * load run) also finds it, and stops it before starting a platform of its own.
 */
export const SHARED_DIR_ENV = 'TESSERA_E2E_SHARED_DIR';

/** The shared platform's files in that directory. */
export const SHARED_FILES = { url: 'gateway-url', output: 'output.log', runner: 'runner.json' };

/**
 * The e2e project's shared platform (e2e/platform.ts: sharedPlatform): a directory for it now,
 * and, when the run ends, the platform stopped. Listed after the devstack's setup, so this teardown
 * runs before its Postgres stops.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-e2e-shared-'));
  // Set before the workers are started, which inherit it (and their children).
  process.env[SHARED_DIR_ENV] = dir;
  return async () => {
    await stopSharedPlatform(dir);
    await rm(dir, { recursive: true, force: true });
  };
}

/**
 * Stops the shared platform if one runs (processes.ts `stopRunner`) and forgets it, so the next file that asks starts another. Also before a file starts a platform of its
 * own on the same databases: two platforms on one database, each with its own NATS, would take each
 * other's outbox rows (an event relayed to the other's bus never reaches this one's consumers) and
 * run the same jobs twice.
 */
export async function stopSharedPlatform(dir: string): Promise<void> {
  const runnerFile = path.join(dir, SHARED_FILES.runner);
  const runner = await readFile(runnerFile, 'utf8').then(
    (text) => JSON.parse(text) as { pid: number; dataDir: string },
    () => undefined,
  );
  if (!runner) return;
  await rm(path.join(dir, SHARED_FILES.url), { force: true });
  await stopRunner({ ...runner, detached: true });
  await rm(runnerFile, { force: true });
}
