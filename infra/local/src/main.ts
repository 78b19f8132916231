// The local runner behind `npm start`: Postgres and NATS (persistent, under .tessera/), one process
// per service, then the gateway. Ctrl-C stops everything in reverse order.
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  describeExit,
  freePortBesides,
  isPortFree,
  redactUrl,
  resolveNats,
  resolvePostgres,
  spawnGuarded,
  waitUntil,
  type GuardedProcess,
  type ResolvedDependency,
} from '@tessera/devstack';
import { ensureDatabases } from './databases.ts';
import { prepareNatsAuth } from './nats-auth.ts';
import { alignLabels, dim, label, prefixLines, say, shout, useColor } from './output.ts';
import { PIDS_FILE, decideOnExit, writePids } from './supervision.ts';
import {
  SERVICE_ENTRY,
  databaseName,
  discoverServices,
  gatewayEnv,
  jwksUrl,
  serviceEnv,
  type ServiceSpec,
  withFreePorts,
} from './services.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const gatewayEntry = path.join(repoRoot, 'infra/gateway/src/server.ts');

/**
 * TESSERA_FREE_PORTS=1: every service, the gateway, Postgres and NATS on free ports unless a port
 * variable says otherwise (a second runner beside `npm start`: the e2e tests). TESSERA_DATA_DIR: where
 * the data live instead of .tessera/. TESSERA_NODE_FLAGS: node flags for every service and the gateway
 * (space-separated), for those NODE_OPTIONS refuses, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p` (load --cpu-prof).
 */
const freePorts = process.env.TESSERA_FREE_PORTS === '1';
const portFrom = (value: string | undefined, fixed: number) =>
  value ? Number(value) : freePorts ? undefined : fixed;
const settings = {
  pgPort: portFrom(process.env.PG_PORT, 54329),
  natsPort: portFrom(process.env.NATS_PORT, 4229),
  gatewayPort: portFrom(process.env.GATEWAY_PORT, 8080),
  /** Prometheus scrapes the gateway here (docker-compose uses the same port). */
  gatewayMetricsPort: portFrom(process.env.GATEWAY_METRICS_PORT, 9464),
  gatewayHost: process.env.GATEWAY_HOST ?? '127.0.0.1',
  logLevel: process.env.LOG_LEVEL ?? 'info',
  dataDir: process.env.TESSERA_DATA_DIR
    ? path.resolve(process.env.TESSERA_DATA_DIR)
    : path.join(repoRoot, '.tessera'),
  freePorts,
  nodeFlags: (process.env.TESSERA_NODE_FLAGS ?? '').split(' ').filter(Boolean),
};

/** Services boot with migrations, possibly all at once on a small machine. */
const STARTUP_TIMEOUT_MS = 120_000;
const CHILD_GRACE_MS = 10_000;

/** A child the runner keeps alive: `guarded` is its current run. */
interface Supervised {
  name: string;
  guarded: GuardedProcess;
  /** Crashes in a row, reset by a run that lasted (supervision.ts). */
  crashes: number;
  startedAt: number;
}

interface Running {
  ready: boolean;
  infrastructure: ResolvedDependency[];
  children: Supervised[];
  /** The pid of every current child, mirrored to the pid file. */
  pids: Record<string, number>;
  /** The last pid file write; writes happen one after another so the newest state wins. */
  pidsWritten: Promise<void>;
}

/** Notes a (re)started process and rewrites the pid file, after any write still in flight. */
function recordPid(running: Running, name: string, pid: number | undefined): void {
  if (pid === undefined) return;
  running.pids[name] = pid;
  running.pidsWritten = running.pidsWritten
    .then(() => writePids(settings.dataDir, { runner: process.pid, processes: { ...running.pids } }))
    .catch((error: Error) => shout(`could not write ${PIDS_FILE}: ${error.message}`));
}

async function main(): Promise<number> {
  const stopping = new AbortController();
  let exitCode = 0;
  const fail = (message: string) => {
    if (stopping.signal.aborted) return;
    exitCode = 1;
    shout(message);
    stopping.abort();
  };
  let stopRequestedAt = 0;
  const requestStop = (reason: string) => {
    if (!stopping.signal.aborted) {
      stopRequestedAt = Date.now();
      say(reason);
      stopping.abort();
    } else if (Date.now() - stopRequestedAt > 1_000) {
      // Within a second it is the same Ctrl-C, delivered both by the terminal and by `npm start`.
      say(`still stopping (children get SIGKILL ${CHILD_GRACE_MS / 1000} s after SIGTERM)`);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => requestStop(`${signal} received`));
  }
  // infra/scripts/start.mjs opens an IPC channel: when it dies, however it dies, we stop too.
  process.on('disconnect', () => requestStop('npm start went away'));

  const running: Running = {
    ready: false,
    infrastructure: [],
    children: [],
    pids: {},
    pidsWritten: Promise.resolve(),
  };
  try {
    const gatewayUrl = await start(running, stopping.signal, fail);
    running.ready = true;
    say(`ready: ${gatewayUrl}  (API docs: ${gatewayUrl}/docs)  Ctrl-C stops everything`);
    const keepAlive = setInterval(() => {}, 1 << 30);
    await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }));
    clearInterval(keepAlive);
  } catch (error) {
    if (!stopping.signal.aborted) fail(error instanceof Error ? error.message : String(error));
  } finally {
    await stop(running);
  }
  return exitCode;
}

/** Starts everything in order and returns the gateway's URL; `signal` aborts between steps. */
async function start(
  running: Running,
  signal: AbortSignal,
  fail: (message: string) => void,
): Promise<string> {
  const declared = await discoverServices(path.join(repoRoot, 'services'));
  // Every port given out goes through one set: two picks of a port free at the time (a service's,
  // the gateway's metrics) once gave the same port twice, and the second to listen failed.
  const taken = new Set<number>(
    [settings.gatewayPort, settings.gatewayMetricsPort, settings.pgPort, settings.natsPort].filter(
      (port) => port !== undefined,
    ),
  );
  const services = settings.freePorts ? await withFreePorts(declared, taken) : declared;
  const gatewayPort = settings.gatewayPort ?? (await freePortBesides(taken));
  const gatewayMetricsPort = settings.gatewayMetricsPort ?? (await freePortBesides(taken));
  alignLabels(['postgres', 'nats', 'gateway', ...services.map((s) => s.name)]);
  say(
    services.length
      ? `services: ${services.map((s) => `${s.name} :${s.port}`).join(', ')}`
      : 'no services found',
  );
  if (!existsSync(gatewayEntry))
    throw new Error(`The gateway is missing: ${path.relative(repoRoot, gatewayEntry)}`);
  if (!jwksUrl(services) && services.length > 0) say('no identity service: JWKS_URL is not set');
  await assertPortsFree(services, gatewayPort, gatewayMetricsPort);

  // A server we start gets one user per service; one from NATS_URL is not ours to configure.
  const natsAuth = process.env.NATS_URL
    ? undefined
    : await prepareNatsAuth(
        settings.dataDir,
        services.map((s) => s.name),
      );
  if (!natsAuth)
    say('NATS_URL is set: the runner cannot configure its users; services connect without credentials');

  const postgresLog = logTo(label('postgres'));
  const natsLog = logTo(label('nats'));
  const startPostgres = (port: number | undefined) =>
    resolvePostgres({
      persistent: true,
      dataDir: path.join(settings.dataDir, 'postgres'),
      port,
      log: postgresLog,
    });
  const startNats = (port: number | undefined) =>
    resolveNats({
      persistent: true,
      storeDir: path.join(settings.dataDir, 'nats'),
      port,
      ...(natsAuth ? { config: natsAuth.configPath } : {}),
      log: natsLog,
    });
  const [postgres, nats] = await startSideBySide(running, [
    // Unset only with free ports: theirs come from the same set as the services' (none listens yet).
    startPostgres(settings.pgPort ?? (await freePortBesides(taken))),
    startNats(settings.natsPort ?? (await freePortBesides(taken))),
  ]);
  // A server we started is brought back on the same port (and data) if it dies, as a service is.
  superviseDependency(running, 'postgres', postgres, () => startPostgres(portOf(postgres.url)), signal);
  superviseDependency(running, 'nats', nats, () => startNats(portOf(nats.url)), signal);
  say(`Postgres from ${postgres.source}: ${redactUrl(postgres.url)}`);
  say(`NATS from ${nats.source}: ${nats.url}`);
  signal.throwIfAborted();

  const created = await ensureDatabases(
    postgres.url,
    services.map((s) => databaseName(s.name)),
  );
  if (created.length) say(`created databases: ${created.join(', ')}`);

  const infra = {
    postgresUrl: postgres.url,
    natsUrl: nats.url,
    logLevel: settings.logLevel,
    ...(natsAuth ? { natsPasswords: natsAuth.passwords } : {}),
  };
  const spawnChild = (name: string, entry: string, cwd: string, env: Record<string, string>) => {
    signal.throwIfAborted();
    const launch = () =>
      spawnGuarded(process.execPath, [...settings.nodeFlags, '--import', 'tsx', entry], {
        cwd,
        env: {
          ...process.env,
          ...(useColor ? { FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } : {}),
          // Children write to a pipe; a person at a terminal still wants readable lines.
          LOG_FORMAT: process.env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
          ...env,
        },
        graceMs: CHILD_GRACE_MS,
      });
    const prefix = label(name);
    const supervised: Supervised = { name, guarded: launch(), crashes: 0, startedAt: Date.now() };
    running.children.push(supervised);
    // A child that dies on its own is started again, with the same environment (so on the same
    // port, and the gateway keeps pointing at it), after a backoff; see supervision.ts.
    const watch = () => {
      const { guarded } = supervised;
      recordPid(running, name, guarded.child.pid);
      prefixLines(prefix, guarded.child.stdout, guarded.child.stderr);
      void guarded.exited.then((exit) => {
        const decision = decideOnExit({
          stopping: signal.aborted,
          ready: running.ready,
          upForMs: Date.now() - supervised.startedAt,
          crashesBefore: supervised.crashes,
        });
        if (decision.action === 'ignore') return;
        if (decision.action === 'fail') return fail(`${name} ${describeExit(exit)} while starting`);
        supervised.crashes = decision.crashes;
        shout(
          `${name} ${describeExit(exit)}: restarting it in ${decision.delayMs} ms` +
            ` (crash ${decision.crashes} in a row)`,
        );
        // Whatever the dead child left in its process group goes with it.
        void guarded.stop();
        setTimeout(() => {
          if (signal.aborted) return;
          supervised.guarded = launch();
          supervised.startedAt = Date.now();
          say(`${name} restarted (pid ${supervised.guarded.child.pid ?? 'unknown'})`);
          watch();
        }, decision.delayMs);
      });
    };
    watch();
  };
  const untilHealthy = (name: string, url: string) =>
    waitUntil(() => answers200(url), `${name} did not answer ${url} within ${STARTUP_TIMEOUT_MS / 1000} s`, {
      timeoutMs: STARTUP_TIMEOUT_MS,
      intervalMs: 250,
      signal,
    });

  for (const service of services) {
    spawnChild(
      service.name,
      path.join(service.dir, SERVICE_ENTRY),
      service.dir,
      serviceEnv(service, services, infra),
    );
  }
  // The gateway needs only the services' ports, all known now, so it starts beside them rather than
  // after them: its own start (several seconds on two cores) no longer adds to every `npm start`.
  const gatewayUrl = `http://${settings.gatewayHost}:${gatewayPort}`;
  spawnChild(
    'gateway',
    gatewayEntry,
    repoRoot,
    gatewayEnv(services, {
      port: gatewayPort,
      host: settings.gatewayHost,
      logLevel: settings.logLevel,
      metricsPort: gatewayMetricsPort,
      ...(process.env.GATEWAY_RATE_LIMIT_MAX ? { rateLimitMax: process.env.GATEWAY_RATE_LIMIT_MAX } : {}),
    }),
  );
  await Promise.all([
    ...services.map((s) => untilHealthy(s.name, `http://127.0.0.1:${s.port}/healthz`)),
    untilHealthy('gateway', `${gatewayUrl}/healthz`),
  ]);
  say(`gateway metrics: http://127.0.0.1:${gatewayMetricsPort}/metrics (each service's on its own port)`);
  return gatewayUrl;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/**
 * Restarts a Postgres or nats-server the runner started (one from the env has no `process`) when
 * it dies on its own, with the services' backoff; a failed restart counts as one more crash.
 */
function superviseDependency(
  running: Running,
  name: string,
  first: ResolvedDependency,
  restart: () => Promise<ResolvedDependency>,
  signal: AbortSignal,
): void {
  let current = first;
  let crashes = 0;
  let startedAt = Date.now();
  const replace = (next: ResolvedDependency) => {
    const index = running.infrastructure.indexOf(current);
    if (index >= 0) running.infrastructure[index] = next;
    else running.infrastructure.push(next);
    current = next;
  };
  const onExit = async (what: string) => {
    const decision = decideOnExit({
      stopping: signal.aborted,
      ready: true,
      upForMs: Date.now() - startedAt,
      crashesBefore: crashes,
    });
    if (decision.action !== 'restart') return;
    crashes = decision.crashes;
    shout(`${name} ${what}: restarting it in ${decision.delayMs} ms (crash ${crashes} in a row)`);
    // Whatever the dead server left in its process group (Postgres backends) goes with it.
    await current.stop().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
    if (signal.aborted) return;
    try {
      const next = await restart();
      startedAt = Date.now();
      if (signal.aborted) {
        await next.stop();
        return;
      }
      replace(next);
      say(`${name} restarted (pid ${next.process?.pid ?? 'unknown'})`);
      watch();
    } catch (error) {
      await onExit(`could not restart (${(error as Error).message.split('\n')[0]})`);
    }
  };
  const watch = () => {
    const started = current.process;
    if (!started) return;
    recordPid(running, name, started.pid);
    void started.exited.then((exit) => onExit(describeExit(exit)));
  };
  watch();
}

/** Waits for both; whichever started is recorded for stop() even when the other failed. */
async function startSideBySide(
  running: Running,
  starts: [Promise<ResolvedDependency>, Promise<ResolvedDependency>],
): Promise<[ResolvedDependency, ResolvedDependency]> {
  const results = await Promise.allSettled(starts);
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  running.infrastructure.push(...started);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason instanceof Error ? failure.reason : new Error(String(failure.reason));
  return started as [ResolvedDependency, ResolvedDependency];
}

/** Children first (SIGTERM, then SIGKILL after the grace period), then NATS and Postgres. */
async function stop({ children, infrastructure }: Running): Promise<void> {
  if (children.length + infrastructure.length === 0) return;
  say('stopping…');
  await Promise.all(
    children.map(async ({ name, guarded }) => {
      // A child that crashed and awaits its restart has nothing left to stop.
      const wasRunning = guarded.child.exitCode === null && guarded.child.signalCode === null;
      const exit = await guarded.stop();
      if (wasRunning && exit.signal === 'SIGKILL')
        say(`${name} ignored SIGTERM for ${CHILD_GRACE_MS / 1000} s: killed`);
    }),
  );
  await Promise.all(
    infrastructure.map((dependency) => dependency.stop().catch((e: Error) => shout(e.message))),
  );
  say('stopped');
}

/** One clear message listing every port that is taken, before anything starts. */
async function assertPortsFree(
  services: readonly ServiceSpec[],
  gatewayPort: number,
  gatewayMetricsPort: number,
): Promise<void> {
  const { pgPort, natsPort } = settings;
  const wanted = [
    ...(process.env.DATABASE_URL || pgPort === undefined
      ? []
      : [{ port: pgPort, what: 'Postgres (set PG_PORT)' }]),
    ...(process.env.NATS_URL || natsPort === undefined
      ? []
      : [{ port: natsPort, what: 'NATS (set NATS_PORT)' }]),
    ...services.map((s) => ({ port: s.port, what: `${s.name} (services/${s.name}/package.json)` })),
    { port: gatewayPort, what: 'the gateway (set GATEWAY_PORT)' },
    { port: gatewayMetricsPort, what: "the gateway's metrics (set GATEWAY_METRICS_PORT)" },
  ];
  const taken = [];
  for (const { port, what } of wanted) if (!(await isPortFree(port))) taken.push(`${port} for ${what}`);
  if (taken.length) {
    throw new Error(`Port(s) already in use: ${taken.join('; ')}. Is another \`npm start\` running?`);
  }
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

function logTo(prefix: string): (line: string) => void {
  return (line) => console.log(`${prefix}${dim(line)}`);
}

process.exit(await main());
