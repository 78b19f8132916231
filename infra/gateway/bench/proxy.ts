/**
 * What the gateway costs: a trivial route served directly by an upstream service, then the same
 * route through the real gateway, each driven by the same load for the same time. Prints req/s,
 * p50 and p99 of both, the ratio, and the CPU each process spends per request (from /proc), which
 * says where the time goes even when a noisy neighbour moves the req/s.
 *
 *   pnpm --filter @tessera/gateway bench
 *     CONNECTIONS=32 DURATION_MS=3000 ROUNDS=5 WARMUP_MS=1500
 *     UPSTREAM=kit|bare        kit (default): a service built by the service kit; bare: plain fastify
 *     GATEWAY_LOG_LEVEL=info   the gateway's LOG_LEVEL (info as deployed: one access line a request)
 *     GATEWAY_ENTRY=path       another gateway entry point to compare (default src/server.ts)
 *
 * The upstream (bench/upstream.ts) and the gateway (src/server.ts, rate limit raised out of the way)
 * run as their own processes, their logs going to pipes that are read; the load comes from this
 * one: CONNECTIONS keep-alive connections, each sending its next request when the last answer is
 * read. Rounds alternate direct and gateway so that a noisy neighbour hurts both alike; each
 * round's ratio is taken against the direct run just before it, and the median round is reported.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { percentile } from '@tessera/service-kit/testing';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const DURATION_MS = Number(process.env.DURATION_MS ?? 3_000);
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 1_500);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const UPSTREAM = process.env.UPSTREAM ?? 'kit';
const GATEWAY_LOG_LEVEL = process.env.GATEWAY_LOG_LEVEL ?? 'info';
const PATH = '/bench/ping';
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const children: ChildProcess[] = [];
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
}
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function startUpstream(): Promise<{ url: string; pid: number }> {
  const child = fork(here('./upstream.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      UPSTREAM,
      LOG_LEVEL: process.env.UPSTREAM_LOG_LEVEL ?? 'info',
      LOG_FORMAT: 'json',
    },
    // Logs go where a container's would: a pipe that is read (here, and thrown away).
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(child);
  child.stdout?.resume();
  const [message] = (await once(child, 'message')) as [{ url: string }];
  return { url: message.url, pid: child.pid! };
}

async function startGateway(upstream: string): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', process.env.GATEWAY_ENTRY ?? here('../src/server.ts')],
    {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: GATEWAY_LOG_LEVEL,
        LOG_FORMAT: 'json',
        GATEWAY_PORT: String(port),
        GATEWAY_ROUTES: JSON.stringify([{ service: 'bench', prefix: '/bench', upstream }]),
        GATEWAY_RATE_LIMIT_MAX: '1000000',
      },
      // Logs go where a container's would: a pipe that is read (here, and thrown away).
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  child.stdout?.resume();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { url, pid: child.pid! };
    if (i > 200 || child.exitCode !== null) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU per request in µs: each server process involved, and the load generator. */
  cpu: Record<string, number>;
}

async function load(
  origin: string,
  durationMs: number,
  processes: Record<string, number> = {},
): Promise<Result> {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuMs(pid)]));
  const ownBefore = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const res = await pool.request({ method: 'GET', path: PATH });
          await res.body.dump();
          if (res.statusCode !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const own = process.cpuUsage(ownBefore);
  const perRequest = (ms: number) => (ms * 1000) / Math.max(1, latencies.length);
  const cpu = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, perRequest(cpuMs(pid) - cpuBefore[name]!)]),
  );
  cpu.load = perRequest((own.user + own.system) / 1000);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => percentile(latencies, q);
  return { rps: (latencies.length / elapsed) * 1000, p50: at(0.5), p99: at(0.99), errors, cpu };
}

const fmt = (r: Result) =>
  `${Math.round(r.rps).toLocaleString('en-US').padStart(7)} req/s   p50 ${r.p50.toFixed(1).padStart(5)} ms   p99 ${r.p99.toFixed(1).padStart(5)} ms   CPU/request ${Object.entries(
    r.cpu,
  )
    .map(([name, us]) => `${name} ${Math.round(us)} µs`)
    .join(', ')}${r.errors ? `   ${r.errors} errors` : ''}`;

const upstream = await startUpstream();
const gw = await startGateway(upstream.url);
console.log(
  `GET ${PATH}: ${CONNECTIONS} connections, ${DURATION_MS} ms x ${ROUNDS} rounds each, upstream=${UPSTREAM}, gateway LOG_LEVEL=${GATEWAY_LOG_LEVEL}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
await load(upstream.url, WARMUP_MS);
await load(gw.url, WARMUP_MS);
const rounds: { direct: Result; gateway: Result; ratio: number }[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const direct = await load(upstream.url, DURATION_MS, { upstream: upstream.pid });
  const gateway = await load(gw.url, DURATION_MS, { gateway: gw.pid, upstream: upstream.pid });
  const ratio = gateway.rps / direct.rps;
  rounds.push({ direct, gateway, ratio });
  console.log(
    `  round ${i + 1}: direct  ${fmt(direct)}\n           gateway ${fmt(gateway)}\n           ratio   ${ratio.toFixed(2)}`,
  );
}
// Each gateway round is compared with the direct round just before it (the same neighbours);
// the round with the median ratio is the result.
const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
console.log(`direct   ${fmt(median.direct)}`);
console.log(`gateway  ${fmt(median.gateway)}`);
console.log(
  `ratio    ${median.ratio.toFixed(2)}x the direct req/s (median of ${ROUNDS} rounds; target >= 0.50)`,
);
for (const c of children) c.kill('SIGTERM');
process.exit(0);
