/**
 * Closed-loop load: `clients` loops, each starting its next operation when the last one answered,
 * for a fixed time; latencies, errors (with the first few described) and the CPU each named process
 * spent per operation.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from '@tessera/service-kit/testing';

/** An operation's outcome: undefined when it succeeded, else what went wrong. */
export type Operation = (client: number) => Promise<string | undefined>;

export interface LoadResult {
  operations: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** The first few errors, as the operation described them. */
  errorSamples: string[];
  /** CPU per operation in µs, by process name. */
  cpuUs: Record<string, number>;
  /** Each counter's increase per operation. */
  perOperation: Record<string, number>;
  /** When the run started and ended, process.hrtime in µs (to find its samples in a CPU profile). */
  window: { startUs: number; endUs: number };
}

const ERROR_SAMPLES = 5;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

export async function runLoad(options: {
  clients: number;
  durationMs: number;
  operation: Operation;
  /** Cumulative CPU ms of each process to charge, read before and after the run. */
  cpu?: Record<string, () => number>;
  /** Other cumulative counters, read before and after the run. */
  counters?: Record<string, () => Promise<number>>;
}): Promise<LoadResult> {
  const { clients, durationMs, operation, cpu = {}, counters = {} } = options;
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const fail = (what: string) => {
    errors++;
    if (errorSamples.length < ERROR_SAMPLES) errorSamples.push(what);
  };
  const readCounters = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(counters).map(async ([name, read]): Promise<[string, number]> => [name, await read()]),
      ),
    );
  const countersBefore = await readCounters();
  const before = Object.fromEntries(Object.entries(cpu).map(([name, read]) => [name, read()]));
  const startUs = nowUs();
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const error = await operation(client);
          if (error !== undefined) fail(error);
        } catch (error) {
          fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const endUs = nowUs();
  const usPerOperation = (ms: number) => (ms * 1000) / Math.max(1, latencies.length);
  const cpuUs = Object.fromEntries(
    Object.entries(cpu).map(([name, read]) => [name, usPerOperation(read() - before[name]!)]),
  );
  const countersAfter = await readCounters();
  const perOperation = Object.fromEntries(
    Object.keys(counters).map((name) => [
      name,
      (countersAfter[name]! - countersBefore[name]!) / Math.max(1, latencies.length),
    ]),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => percentile(latencies, q);
  return {
    operations: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    errorSamples,
    cpuUs,
    perOperation,
    window: { startUs, endUs },
  };
}

/** The bench's own CPU ms so far (user + system), for runLoad's `cpu`. */
export const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export interface HttpAnswer {
  status: number;
  body: string;
}

/** A keep-alive HTTP/1.1 client of one origin, at most `connections` sockets (one request each). */
export function httpClient(origin: string, connections: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const { hostname, port } = new URL(origin);
  return {
    post(path: string, headers: Record<string, string>, body: unknown): Promise<HttpAnswer> {
      const payload = JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            hostname,
            port,
            path,
            method: 'POST',
            headers: {
              ...headers,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}
