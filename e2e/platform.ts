import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort, resolvePostgres } from '@tessera/devstack';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { stopRunner } from './processes.ts';
import { SHARED_DIR_ENV, SHARED_FILES, stopSharedPlatform } from './shared-platform-setup.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface Platform {
  baseUrl: string;
  /** The runner's TESSERA_DATA_DIR (its pid file lives there), removed by stop(); absent for a
   * platform someone else started (the demo's). */
  dataDir?: string;
  output: () => string;
  stop(): Promise<number | null>;
}

/**
 * The one admin of the e2e database. The specs share that database and identity bootstraps an
 * admin only while there is none, so every spec logs in as this one, whichever runs first.
 */
export const e2eAdmin = { email: 'e2e.admin@example.test', password: 'e2e-granite-harbour-willow' };

/**
 * Starts the whole platform the way `npm start` does (the local runner: every service and the
 * gateway as processes, each on a free port so that a running `npm start` is no obstacle) on the
 * harness's Postgres, and resolves once the gateway answers. The runner starts its own NATS with a
 * user per service, so every journey also proves the services' NATS permissions suffice.
 */
export async function startPlatform(
  timeoutMs = 120_000,
  /** Extra environment for every process (e.g. ADMIN_EMAIL / ADMIN_PASSWORD for identity). */
  env: Record<string, string> = {},
  /** The Postgres server's admin URL; the harness's by default. */
  postgresUrl?: string,
): Promise<Platform> {
  // On the harness's databases this platform must be the only one (see stopSharedPlatform); on
  // another Postgres (chaos, load) an idle shared platform would still take a share of the CPU.
  const shared = process.env[SHARED_DIR_ENV];
  if (shared) await stopSharedPlatform(shared);
  const { child, exited, platform } = await launch({ timeoutMs, env, postgresUrl });
  return {
    ...platform,
    async stop() {
      if (child.exitCode === null)
        await stopRunner({ pid: child.pid!, dataDir: platform.dataDir, detached: false });
      else await rm(platform.dataDir, { recursive: true, force: true });
      return exited;
    },
  };
}

/** What the e2e files that need nothing of their own run against (see sharedPlatform). */
const SHARED_ENV = {
  // Thousands of requests from one address (the matrix, the fuzzer): the gateway's per-address
  // limit is tested by its own integration tests, not here.
  GATEWAY_RATE_LIMIT_MAX: '1000000',
};

/**
 * The platform most e2e files share: the first file that asks starts it (its runner detached from
 * that file's worker, its output in a file), the next ones reuse it, and e2e/shared-platform-setup.ts
 * stops it when the run ends. Starting the platform took some 25 s of every e2e file's run. A file
 * that kills services, needs other settings or tests the runner's own stop uses startPlatform, which
 * stops the shared one first (the next file to ask starts it again; vitest.config.ts runs such files last).
 * The e2e project runs one file at a time, so two files never start it together.
 */
export async function sharedPlatform(): Promise<Platform> {
  const dir = process.env[SHARED_DIR_ENV];
  if (!dir)
    throw new Error(`sharedPlatform runs under the e2e project's setup (${SHARED_DIR_ENV} is not set)`);
  const urlFile = path.join(dir, SHARED_FILES.url);
  const logFile = path.join(dir, SHARED_FILES.output);
  const output = () => readFileSync(logFile, 'utf8');
  const known = await readFile(urlFile, 'utf8').catch(() => undefined);
  if (known) return { baseUrl: known, output, stop: async () => null };
  const { child, platform } = await launch({ timeoutMs: 120_000, env: SHARED_ENV, logFile });
  child.unref();
  await writeFile(
    path.join(dir, SHARED_FILES.runner),
    JSON.stringify({ pid: child.pid, dataDir: platform.dataDir }),
  );
  await writeFile(urlFile, platform.baseUrl);
  return { ...platform, stop: async () => null };
}

/**
 * Spawns the runner and waits until it is ready. With `logFile` the runner is detached and writes
 * its output there (it outlives the test file that started it); otherwise its output is piped here.
 */
async function launch(options: {
  timeoutMs: number;
  env: Record<string, string>;
  postgresUrl?: string;
  logFile?: string;
}): Promise<{
  child: ChildProcess;
  exited: Promise<number | null>;
  platform: Platform & { dataDir: string };
}> {
  const { timeoutMs, env, postgresUrl, logFile } = options;
  const port = await findFreePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-e2e-'));
  const { NATS_URL: _outside, ...inherited } = process.env;
  let piped = '';
  // A fresh log for each start: a "ready:" line of an earlier one must not pass for this one's.
  const logFd = logFile ? openSync(logFile, 'w') : undefined;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'infra/local/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...inherited,
      DATABASE_URL: postgresUrl ?? inject('postgresUrl'),
      TESSERA_FREE_PORTS: '1',
      TESSERA_DATA_DIR: dataDir,
      GATEWAY_PORT: String(port),
      LOG_LEVEL: 'warn',
      FORCE_COLOR: '0',
      ADMIN_EMAIL: e2eAdmin.email,
      ADMIN_PASSWORD: e2eAdmin.password,
      ...env,
    },
    stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
    detached: logFd !== undefined,
  });
  // The child has its own copy of the log's descriptor.
  if (logFd !== undefined) closeSync(logFd);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  child.stdout?.on('data', (chunk: Buffer) => (piped += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (piped += chunk.toString()));
  const output = logFile ? () => readFileSync(logFile, 'utf8') : () => piped;

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`the platform exited early:\n${output()}`);
    }
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    // And the runner says so: until its "ready:" line it treats a child's death as a failed start
    // (and stops everything) rather than a crash to restart.
    if (ok && /\bready: http/.test(output())) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the platform did not come up in ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, exited, platform: { baseUrl, dataDir, output, stop: async () => null } };
}

export interface ScriptPlatform {
  platform: Platform;
  /** The Postgres server's admin URL (each service's database is on it). */
  serverUrl: string;
  /** The admin the platform bootstrapped: ADMIN_EMAIL / ADMIN_PASSWORD, else the e2e one. */
  admin: { email: string; password: string };
  /** Stops what this started (nothing for a running platform). */
  stop(): Promise<void>;
}

/**
 * The platform a script (the fuzzer, the load run) drives: a running one named by its gateway and
 * Postgres server URLs, or one of its own on an embedded Postgres. All of a script's requests come
 * from one address, so its own platform lifts the gateway's and the services' rate limits.
 */
export async function scriptPlatform(options: {
  gateway?: string;
  databaseUrl?: string;
  env?: Record<string, string>;
  /** Load pg_stat_statements in the platform's Postgres (devstack `trackStatements`). */
  trackStatements?: boolean;
}): Promise<ScriptPlatform> {
  const admin =
    process.env.ADMIN_EMAIL && process.env.ADMIN_PASSWORD
      ? { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD }
      : e2eAdmin;
  if (options.gateway) {
    if (!options.databaseUrl) throw new Error('--gateway needs --database-url');
    const platform = { baseUrl: options.gateway, output: () => '', stop: async () => null };
    return { platform, serverUrl: options.databaseUrl, admin, stop: async () => undefined };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-script-pg-'));
  const postgres = await resolvePostgres({
    containers: false,
    persistent: false,
    dataDir,
    trackStatements: options.trackStatements ?? false,
  });
  const stopPostgres = async () => {
    await postgres.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const platform = await startPlatform(
      180_000,
      { GATEWAY_RATE_LIMIT_MAX: '1000000', RATE_LIMIT_MAX: '1000000', ...options.env },
      postgres.url,
    );
    return {
      platform,
      serverUrl: postgres.url,
      admin,
      async stop() {
        await platform.stop().catch(() => undefined);
        await stopPostgres();
      },
    };
  } catch (error) {
    await stopPostgres();
    throw error;
  }
}
