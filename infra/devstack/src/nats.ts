import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { containerRuntimeAnswers, startNatsContainer } from './containers.ts';
import type { DependencyOptions, ResolvedDependency } from './dependency.ts';
import { assertReachable, urlFromEnv, type Env } from './env.ts';
import { MissingDependencyError } from './errors.ts';
import { describeExit, spawnGuarded } from './guarded-process.ts';
import { canConnect, findFreePort, isPortFree, waitUntil } from './ports.ts';

export interface NatsOptions extends DependencyOptions {
  /** JetStream store of a persistent server (required when persistent; otherwise a temp dir is used). */
  storeDir?: string;
  /**
   * A nats-server config file (users, permissions) for a server started here; the command line
   * still sets JetStream, address, port and store. It cannot apply to a server from the env.
   */
  config?: string;
}

export type ResolvedNats = ResolvedDependency<'env' | 'testcontainers' | 'local'>;

/** Where nats-server is looked for after PATH: Debian puts it in /usr/sbin, often not on a user's PATH. */
export const NATS_SERVER_DIRS = ['/usr/sbin', '/usr/local/bin', '/usr/bin', '/opt/homebrew/bin'];

/** NATS from the env, else a container, else the local nats-server binary with JetStream. */
export async function resolveNats(options: NatsOptions = {}): Promise<ResolvedNats> {
  const envNames = options.envNames ?? ['NATS_URL'];
  const env = options.env ?? process.env;
  const fromEnv = urlFromEnv(envNames, env);
  if (fromEnv) {
    await assertReachable('nats', fromEnv, 4222);
    return { url: fromEnv.url, source: 'env', stop: () => Promise.resolve() };
  }
  if (!options.config && (options.containers ?? !options.persistent) && (await containerRuntimeAnswers())) {
    return { ...(await startNatsContainer()), source: 'testcontainers' };
  }
  const binary = findNatsServer(env);
  if (!binary) throw natsServerMissing(envNames);
  return startLocalNats(binary, options);
}

export function findExecutable(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

export function findNatsServer(env: Env = process.env): string | undefined {
  return findExecutable('nats-server', [...(env.PATH ?? '').split(path.delimiter), ...NATS_SERVER_DIRS]);
}

export function natsServerMissing(envNames: readonly string[]): MissingDependencyError {
  return new MissingDependencyError(
    'nats',
    [
      `NATS is not available: ${envNames.join(' / ')} not set, no container runtime answers, ` +
        `and no nats-server binary in PATH or ${NATS_SERVER_DIRS.join(', ')}. Any one of these fixes it:`,
      '  Debian/Ubuntu:  sudo apt-get install -y nats-server',
      '  macOS:          brew install nats-server',
      '  elsewhere:      put nats-server from https://github.com/nats-io/nats-server/releases on PATH',
      `  or set ${envNames[0] ?? 'NATS_URL'} to a running server with JetStream enabled (nats-server -js)`,
    ].join('\n'),
  );
}

/** nats-server with JetStream on 127.0.0.1, ready once its port accepts connections. */
export async function startLocalNats(binary: string, options: NatsOptions = {}): Promise<ResolvedNats> {
  const { persistent = false, log = () => {} } = options;
  if (persistent && !options.storeDir) throw new TypeError('A persistent NATS needs a storeDir');
  const port = options.port ?? (await findFreePort());
  if (options.port !== undefined && !(await isPortFree(port))) {
    throw new Error(`Cannot start NATS: port ${port} on 127.0.0.1 is already in use`);
  }
  const storeDir = persistent
    ? path.resolve(options.storeDir!)
    : await mkdtemp(path.join(os.tmpdir(), 'tessera-nats-'));
  await mkdir(storeDir, { recursive: true });
  const removeStore = () => (persistent ? Promise.resolve() : rm(storeDir, { recursive: true, force: true }));

  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  const server = spawnGuarded(binary, options.config ? ['-c', options.config, ...args] : args, {
    removeOnOrphan: persistent ? '' : storeDir,
  });
  const recent: string[] = [];
  for (const stream of [server.child.stdout!, server.child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      log(line);
      recent.push(line);
      if (recent.length > 20) recent.shift();
    });
  }
  let exit: string | undefined;
  void server.exited.then((result) => (exit = describeExit(result)));
  try {
    await waitUntil(
      async () => {
        if (exit) throw new Error(`nats-server ${exit} while starting:\n${recent.join('\n')}`);
        return canConnect('127.0.0.1', port);
      },
      () => `nats-server did not accept connections on port ${port} within 20 s:\n${recent.join('\n')}`,
      { timeoutMs: 20_000 },
    );
  } catch (error) {
    await server.stop();
    await removeStore();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    source: 'local',
    process: { pid: server.child.pid, exited: server.exited },
    stop: () => (stopped ??= server.stop().then(removeStore)),
  };
}
