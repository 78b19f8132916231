import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

export interface GuardedProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** How to ask the process to stop, from stop() or from the watchdog. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** How long stopSignal may take before the whole process group gets SIGKILL. Default 10 s. */
  graceMs?: number;
  /** A directory the watchdog deletes after stopping the process (only when we died without stop()). */
  removeOnOrphan?: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (ENOENT, EACCES). */
  error?: NodeJS.ErrnoException;
}

export interface GuardedProcess {
  /** stdout and stderr are pipes; stdin is closed. */
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  /** Sends stopSignal, SIGKILLs the process group after graceMs, resolves once it has exited. */
  stop(): Promise<ProcessExit>;
}

/*
 * Runs beside the guarded process. Its stdin is a pipe whose only writer is our process, so `cat`
 * returns when we exit for any reason, SIGKILL and crashes included; it then stops the process the
 * polite way, and after the grace period kills its process group. Positional args:
 * $1 pid, $2 signal number, $3 grace in seconds, $4 directory to remove (may be empty).
 */
const WATCHDOG_SCRIPT = `
cat >/dev/null 2>&1
if kill -$2 $1 2>/dev/null; then
  i=0
  while [ $i -lt $3 ] && kill -0 $1 2>/dev/null; do sleep 1; i=$((i + 1)); done
  kill -9 -$1 2>/dev/null
fi
[ -z "$4" ] || rm -rf -- "$4"
`;

/**
 * Spawns a long-running process that cannot outlive us. It gets its own process group, so a Ctrl-C
 * in the terminal reaches only our process, which then stops things in the right order; and a
 * watchdog (a tiny `sh`, see above) stops it if we die without calling stop().
 */
export function spawnGuarded(
  command: string,
  args: readonly string[],
  options: GuardedProcessOptions = {},
): GuardedProcess {
  const { stopSignal = 'SIGTERM', graceMs = 10_000, removeOnOrphan = '', ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, error });
    });
  });

  if (child.pid !== undefined) {
    const watchdog = spawn(
      '/bin/sh',
      [
        '-c',
        WATCHDOG_SCRIPT,
        'watchdog',
        String(child.pid),
        String(constants.signals[stopSignal]),
        String(Math.ceil(graceMs / 1000)),
        removeOnOrphan,
      ],
      { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
    );
    // Neither the watchdog nor its pipe may keep our event loop alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref(): void }).unref();
    void exited.then(() => killGroup(watchdog.pid, 'SIGKILL'));
  }

  let stopping: Promise<ProcessExit> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(stopSignal);
        const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      const exit = await exited;
      // Anything the process left behind in its group goes with it.
      killGroup(child.pid, 'SIGKILL');
      return exit;
    })());

  return { child, exited, stop };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** "exited with code 1", "was killed by SIGKILL", "could not start: spawn x ENOENT". */
export function describeExit({ code, signal, error }: ProcessExit): string {
  if (error) return `could not start: ${error.message}`;
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${code ?? 'unknown'}`;
}
