/**
 * The ledger's HTTP path as real processes, started the way the local runner starts them: Postgres
 * (embedded, or DATABASE_URL), nats-server with a user and password per service, the ledger service
 * (`src/server.ts`, NODE_ENV=development, its own database) and the gateway in front of it. Tokens
 * come from a stand-in for identity's JWKS (token-issuer.ts). Every process is started through
 * devstack's spawnGuarded, so none outlives this one, whatever way it ends.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  describeExit,
  findFreePort,
  type GuardedProcess,
  resolveNats,
  resolvePostgres,
  spawnGuarded,
} from '@tessera/devstack';
import { connectBus, ensureStream } from '@tessera/service-kit';
import pg from 'pg';
import { prepareNatsAuth } from '../../../infra/local/src/nats-auth.ts';
import { READS } from '../../../infra/nats/src/permissions.ts';
import { findProcess } from './proc-cpu.ts';
import { startTokenIssuer, type TokenIssuer } from './token-issuer.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const LEDGER_DIR = here('..');
const GATEWAY_DIR = here('../../../infra/gateway');
const START_TIMEOUT_MS = 120_000;

export interface StackOptions {
  /** Postgres with fsync and synchronous commit on, its data in a directory of its own. */
  durable: boolean;
  /** LOG_LEVEL of the ledger and the gateway (info as deployed: one access line a request). */
  logLevel: string;
  /** Directory for V8 CPU profiles of the ledger and gateway (`--cpu-prof`), when wanted. */
  profileDir?: string;
  /** Said before each step, so a slow or failing start shows where it is. */
  log: (line: string) => void;
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** How it ended, once it has. */
  exit(): string | undefined;
  /** The last 8 kB it printed (its logs), to explain a failure. */
  tail(): string;
}

export interface Stack {
  ledger: ServerProcess;
  gateway: ServerProcess;
  /** Superuser URL of the Postgres server (to create more databases). */
  postgresUrl: string;
  /** The postmaster and NATS, when they run here (their CPU is read from /proc). */
  postgresPid?: number;
  natsPid?: number;
  /** fsync, synchronous_commit and server_version as the server reports them. */
  postgresSettings: Record<string, string>;
  ledgerDatabaseUrl: string;
  issuer: TokenIssuer;
  /** LEDGER_ADMIN_MAX_AMOUNT_MINOR as the ledger was started with. */
  adminMaxAmountMinor: number;
  stop(): Promise<void>;
}

/** Starts everything; whatever was started is stopped again when a later step fails. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const undo: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    return await start(options, undo, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function start(
  options: StackOptions,
  undo: (() => Promise<unknown>)[],
  stop: () => Promise<void>,
): Promise<Stack> {
  const { log } = options;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ledger-http-bench-'));
  undo.push(() => rm(scratch, { recursive: true, force: true }));

  log(`postgres (${options.durable ? 'fsync on, persistent data dir' : 'fsync off'})`);
  // Its own temporary folder: the server runs as the postgres user when we are root, and must reach it.
  const dataDir = options.durable
    ? await mkdtemp(path.join(os.tmpdir(), 'ledger-http-bench-pg-'))
    : undefined;
  if (dataDir) undo.push(() => rm(dataDir, { recursive: true, force: true }));
  const postgres = await resolvePostgres({ containers: false, persistent: options.durable, dataDir });
  undo.push(() => postgres.stop());
  const postgresPort = new URL(postgres.url).port;
  const postgresPid = findProcess((argv) => argv.includes('-D') && argv.includes(postgresPort));
  const ledgerDatabaseUrl = await createDatabase(postgres.url, `ledger_http_bench_${Date.now()}`);
  const postgresSettings = await serverSettings(postgres.url);

  log('nats-server (a user and password per service)');
  const auth = await prepareNatsAuth(path.join(scratch, 'nats-auth'), ['ledger']);
  // Always a server of our own: one from NATS_URL would not know these users.
  const nats = await resolveNats({ containers: false, envNames: [], config: auth.configPath });
  undo.push(() => nats.stop());
  const natsPort = new URL(nats.url).port;
  const natsPid = findProcess((argv) => argv.includes('-js') && argv.includes(natsPort));
  // The ledger only reads the streams of the services it consumes; their producers create them.
  for (const producer of READS.ledger) {
    const bus = await connectBus({
      url: nats.url,
      name: `bench-${producer}`,
      user: producer,
      password: auth.passwords[producer],
    });
    await ensureStream(bus, producer);
    await bus.close();
  }

  const issuer = await startTokenIssuer();
  undo.push(() => issuer.close());

  log('ledger service');
  const adminMaxAmountMinor = Number(process.env.LEDGER_ADMIN_MAX_AMOUNT_MINOR ?? 10_000_000);
  const ledgerPort = await findFreePort();
  const ledger = await startServer('ledger', {
    cwd: LEDGER_DIR,
    entry: path.join(LEDGER_DIR, 'src/server.ts'),
    profileDir: options.profileDir,
    url: `http://127.0.0.1:${ledgerPort}`,
    env: {
      SERVICE_NAME: 'ledger',
      PORT: String(ledgerPort),
      HOST: '127.0.0.1',
      DATABASE_URL: ledgerDatabaseUrl,
      NATS_URL: nats.url,
      NATS_USER: 'ledger',
      NATS_PASSWORD: auth.passwords.ledger,
      NATS_PREFIX: '',
      JWKS_URL: issuer.jwksUrl,
      NODE_ENV: 'development',
      LOG_LEVEL: options.logLevel,
      LOG_FORMAT: 'json',
      LEDGER_ADMIN_MAX_AMOUNT_MINOR: String(adminMaxAmountMinor),
      // The per-IP limit (1000 a minute by default) would refuse the benchmark's one client address.
      RATE_LIMIT_MAX: '1000000000',
    },
  });
  undo.push(() => ledger.process.stop());

  log('gateway');
  const manifest = JSON.parse(await readFile(path.join(LEDGER_DIR, 'package.json'), 'utf8')) as {
    tessera: { routes: string[] };
  };
  const gatewayPort = await findFreePort();
  const gateway = await startServer('gateway', {
    cwd: GATEWAY_DIR,
    entry: path.join(GATEWAY_DIR, 'src/server.ts'),
    profileDir: options.profileDir,
    url: `http://127.0.0.1:${gatewayPort}`,
    env: {
      SERVICE_NAME: 'gateway',
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_ROUTES: JSON.stringify(
        manifest.tessera.routes.map((prefix) => ({ service: 'ledger', prefix, upstream: ledger.url })),
      ),
      NODE_ENV: 'development',
      LOG_LEVEL: options.logLevel,
      LOG_FORMAT: 'json',
      GATEWAY_RATE_LIMIT_MAX: '1000000',
    },
  });
  undo.push(() => gateway.process.stop());

  return {
    ledger,
    gateway,
    postgresUrl: postgres.url,
    ...(postgresPid !== undefined ? { postgresPid } : {}),
    ...(natsPid !== undefined ? { natsPid } : {}),
    postgresSettings,
    ledgerDatabaseUrl,
    issuer,
    adminMaxAmountMinor,
    stop,
  };
}

/** A new database on the server; its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function serverSettings(adminUrl: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'server_version')`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  } finally {
    await client.end();
  }
}

interface Started extends ServerProcess {
  process: GuardedProcess;
}

/**
 * A node server (`node --import tsx entry`), answered once its /healthz does. Its output goes to a
 * pipe that is read, as a container's would; its tail is kept to explain a failure.
 */
async function startServer(
  name: string,
  spec: { cwd: string; entry: string; url: string; env: Record<string, string>; profileDir?: string },
): Promise<Started> {
  // A folder per server: tsx's loader thread writes a profile of its own beside the main thread's.
  const profile = spec.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(spec.profileDir, name)}`] : [];
  const child = spawnGuarded(process.execPath, [...profile, '--import', 'tsx', spec.entry], {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  child.child.stdout?.on('data', keep);
  child.child.stderr?.on('data', keep);
  let exit: string | undefined;
  void child.exited.then((result) => (exit = describeExit(result)));

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exit) throw new Error(`the ${name} ${exit} while starting; its last output:\n${tail}`);
    const up = await fetch(`${spec.url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(
        `the ${name} did not answer ${spec.url}/healthz within ${START_TIMEOUT_MS} ms:\n${tail}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url: spec.url, pid: child.child.pid!, process: child, exit: () => exit, tail: () => tail };
}
