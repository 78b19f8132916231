import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePortBesides } from '@tessera/devstack';
import { PIDS_FILE, type RunnerPids } from '../../local/src/supervision.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

export const chaosAdmin = { email: 'chaos.admin@example.test', password: 'chaos-granite-harbour-willow' };

export interface ChaosPlatform {
  baseUrl: string;
  dataDir: string;
  /** The runner's nats-server (each service's user and password are in `nats-passwords.json`). */
  natsUrl: string;
  /** Superuser URL of a service's database, e.g. `databaseUrl('ledger')`. */
  databaseUrl(service: string): string;
  /** The pid of every process the runner runs now (runner-pids.json). */
  pids(): Promise<Record<string, number>>;
  /** The runner's lines naming a restart, so far. */
  restarts(): string[];
  /** Where the runner's whole output is written. */
  logFile: string;
  stop(): Promise<void>;
}

/**
 * The local runner (`npm start`) on free ports and a fresh data directory, with its own embedded
 * Postgres and nats-server, so that the harness can kill those too and the runner brings them back.
 */
export async function startChaosPlatform(
  log: (line: string) => void,
  timeoutMs = 240_000,
): Promise<ChaosPlatform> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-chaos-'));
  // Postgres runs as its own user when we are root: it must be able to reach its data below.
  await chmod(dataDir, 0o755);
  const ports = new Set<number>();
  const [gatewayPort, pgPort, natsPort] = [
    await freePortBesides(ports),
    await freePortBesides(ports),
    await freePortBesides(ports),
  ];
  const { DATABASE_URL: _db, NATS_URL: _nats, FORCE_COLOR: _color, ...inherited } = process.env;
  const logFile = path.join(os.tmpdir(), `${path.basename(dataDir)}.log`);
  const restartLines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'infra/local/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...inherited,
      TESSERA_FREE_PORTS: '1',
      TESSERA_DATA_DIR: dataDir,
      GATEWAY_PORT: String(gatewayPort),
      PG_PORT: String(pgPort),
      NATS_PORT: String(natsPort),
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
      LOG_FORMAT: 'json',
      NO_COLOR: '1',
      ADMIN_EMAIL: chaosAdmin.email,
      ADMIN_PASSWORD: chaosAdmin.password,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let pending = '';
  const onData = (chunk: Buffer) => {
    appendFileSync(logFile, chunk);
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const raw of lines) {
      // eslint-disable-next-line no-control-regex -- colour codes, should a parent force colour
      const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
      if (/^\[tessera\].*(restart|killed|exited)/.test(line)) {
        restartLines.push(line);
        log(line.replace(/^\[tessera\]\s+/, 'runner: '));
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit');
  // However the harness ends (Ctrl-C included, see chaos.ts), the runner stops its platform too.
  const stopRunner = () => {
    if (child.exitCode === null) child.kill('SIGINT');
  };
  process.once('exit', stopRunner);

  const baseUrl = `http://127.0.0.1:${gatewayPort}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the platform exited early; see ${logFile}`);
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the platform did not come up in ${timeoutMs} ms; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  return {
    baseUrl,
    dataDir,
    natsUrl: `nats://127.0.0.1:${natsPort}`,
    logFile,
    databaseUrl: (service) =>
      `postgres://postgres:postgres@127.0.0.1:${pgPort}/tessera_${service.replaceAll('-', '_')}`,
    async pids() {
      const file = JSON.parse(await readFile(path.join(dataDir, PIDS_FILE), 'utf8')) as RunnerPids;
      return file.processes;
    },
    restarts: () => [...restartLines],
    async stop() {
      process.off('exit', stopRunner);
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
