import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with its exit code once it has exited (at once if it already has). */
  exited(): Promise<number | null>;
}

/**
 * Starts a service's process entry the way the local runner does (`node --import tsx <entry>`),
 * with only PATH and `env` in its environment (undefined values left out), logging JSON.
 */
export function launchServiceProcess(
  entry: string,
  env: Record<string, string | number | undefined>,
): ServiceProcess {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      PATH: process.env.PATH,
      LOG_FORMAT: 'json',
      ...Object.fromEntries(
        Object.entries(env)
          .filter(([, value]) => value !== undefined)
          .map(([key, value]) => [key, String(value)]),
      ),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    exited: () =>
      child.exitCode !== null
        ? Promise.resolve(child.exitCode)
        : once(child, 'exit').then(([code]) => code as number | null),
  };
}
