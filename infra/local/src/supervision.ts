import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * How the runner brings back a child that died without being asked to: after a short delay that
 * doubles with every crash in a row (250 ms, 500 ms, … up to 5 s), and starts again from the
 * shortest once the child has stayed up for `stableMs`. A crash loop therefore costs little CPU,
 * and a one-off crash (a SIGKILL, an out-of-memory kill) is repaired at once.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Up this long, a child's next crash counts as the first again. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 5_000, stableMs: 30_000 };

/** The wait before the `crashes`-th restart in a row (1 for the first). */
export function restartDelay(crashes: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (crashes < 1) return 0;
  // 2 ** 30 already exceeds any sensible cap; larger exponents would only lose precision.
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(crashes - 1, 30));
}

export interface ChildExitFacts {
  /** The runner is stopping (Ctrl-C, SIGTERM, a fatal error): the exit was asked for. */
  stopping: boolean;
  /** The platform had become ready; a child dying before that is a broken start, not a crash. */
  ready: boolean;
  /** How long this run of the child lasted. */
  upForMs: number;
  /** Crashes in a row before this one (0 after a stable run). */
  crashesBefore: number;
}

export type ExitDecision =
  { action: 'ignore' } | { action: 'fail' } | { action: 'restart'; delayMs: number; crashes: number };

/** What the runner does when a child exits. */
export function decideOnExit(facts: ChildExitFacts, policy: BackoffPolicy = DEFAULT_BACKOFF): ExitDecision {
  if (facts.stopping) return { action: 'ignore' };
  if (!facts.ready) return { action: 'fail' };
  const crashes = facts.upForMs >= policy.stableMs ? 1 : facts.crashesBefore + 1;
  return { action: 'restart', delayMs: restartDelay(crashes, policy), crashes };
}

/** The file, in the data directory, naming the pid of every process the runner runs right now. */
export const PIDS_FILE = 'runner-pids.json';

export interface RunnerPids {
  runner: number;
  /** Process name (a service, "gateway", "nats", "postgres") → pid of its current run. */
  processes: Record<string, number>;
}

/**
 * Rewrites the pid file whole (write beside, then rename) so a reader never sees half of it. Tools
 * that kill a process on purpose (the chaos harness) find the pid here.
 */
export async function writePids(dataDir: string, pids: RunnerPids): Promise<void> {
  const file = path.join(dataDir, PIDS_FILE);
  const staging = `${file}.${process.pid}.tmp`;
  await mkdir(dataDir, { recursive: true });
  await writeFile(staging, `${JSON.stringify(pids, null, 2)}\n`, { mode: 0o600 });
  await rename(staging, file);
}
