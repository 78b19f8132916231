import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the e2e files' shared platform leaves its gateway URL, runner pid and output. */
    e2eSharedDir: string;
  }
}

/** The shared platform's files in that directory. */
export const SHARED_FILES = { url: 'gateway-url', output: 'output.log', runner: 'runner.json' };

const STOP_GRACE_MS = 20_000;

/**
 * The e2e project's shared platform (e2e/platform.ts: sharedPlatform): a directory for it now,
 * and, when the run ends, the runner stopped (SIGINT, then SIGKILL to its process group after 20 s).
 * Listed after the devstack's setup, so this teardown runs before its Postgres stops.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-e2e-shared-'));
  project.provide('e2eSharedDir', dir);
  return async () => {
    const runner = await readFile(path.join(dir, SHARED_FILES.runner), 'utf8').then(
      (text) => JSON.parse(text) as { pid: number; dataDir: string },
      () => undefined,
    );
    if (runner) {
      signal(runner.pid, 'SIGINT');
      const deadline = Date.now() + STOP_GRACE_MS;
      while (alive(runner.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // Detached, the runner leads its own process group: whatever it left goes with it.
      if (alive(runner.pid)) signal(-runner.pid, 'SIGKILL');
      await rm(runner.dataDir, { recursive: true, force: true });
    }
    await rm(dir, { recursive: true, force: true });
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
