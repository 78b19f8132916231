import { rm } from 'node:fs/promises';

/** Whether a process with this pid exists (signal 0 checks without sending). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends a signal to a pid (a negative one: its process group), if it is still there. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** How long a runner has to stop on SIGINT before it is killed. */
const STOP_GRACE_MS = 20_000;

/**
 * Stops a local runner: SIGINT, then SIGKILL after STOP_GRACE_MS (to its whole process group when
 * it was started detached, as its own group's leader), and removes its data directory. Every e2e
 * platform, shared or a file's own, stops this way.
 */
export async function stopRunner(runner: { pid: number; dataDir: string; detached: boolean }): Promise<void> {
  signal(runner.pid, 'SIGINT');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (alive(runner.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(runner.pid)) signal(runner.detached ? -runner.pid : runner.pid, 'SIGKILL');
  await rm(runner.dataDir, { recursive: true, force: true });
}
