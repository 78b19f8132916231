import fc from 'fast-check';
import { percentile } from '../../packages/service-kit/src/testing/figures.ts';
import { badAuthorizations } from './hostile.ts';
import {
  type FuzzRequest,
  type KnownIds,
  type Operation,
  requestsFor,
  validRequestsFor,
} from './operations.ts';
import { changes, sameSnapshot, type StateProbe } from './state.ts';

// Runs every operation as every role with generated requests, and holds the platform to two
// promises: nothing answers 5xx (or fails to answer), and a refused request changes nothing.

export interface Role {
  name: string;
  /** The Authorization header, or none (anonymous). */
  authorization?: string;
  /** Holds a real session the fuzzer must not destroy (no logout, no account deletion). */
  session: boolean;
}

export interface Finding {
  operation: string;
  role: string;
  kind: string;
  request: string;
  status: number | 'no answer';
  problem: string;
}

export interface FuzzReport {
  requests: number;
  operations: number;
  roles: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  /** Refused requests whose effect on the outboxes and the ledger was checked. */
  refusalsChecked: number;
  findings: Finding[];
  seconds: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The slowest request, as `METHOD /path as role: request`. */
  slowest: string;
}

export interface FuzzOptions {
  baseUrl: string;
  operations: Operation[];
  roles: Role[];
  known: KnownIds;
  state: StateProbe;
  /** Generated requests per operation and role. */
  perCell: number;
  seed: number;
  /** Operations (`METHOD /path`) run only as roles without a session: they would end the fuzzer's own. */
  sessionEnding?: ReadonlySet<string>;
  onProgress?: (done: number, total: number) => void;
}

const TIMEOUT_MS = 15_000;

/** A stable number for a string, so that each cell has its own reproducible seed. */
function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function describe(request: FuzzRequest): string {
  const body =
    request.body === undefined
      ? ''
      : typeof request.body.data === 'string'
        ? ` ${request.body.contentType} ${request.body.data.slice(0, 160)}${request.body.data.length > 160 ? `… (${request.body.data.length} chars)` : ''}`
        : ` ${request.body.contentType} (${request.body.data.length} bytes)`;
  const url =
    request.url.length > 200 ? `${request.url.slice(0, 200)}… (${request.url.length} chars)` : request.url;
  return `${request.method} ${url}${body}`;
}

async function send(
  baseUrl: string,
  request: FuzzRequest,
  authorization: string | undefined,
): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const response = await fetch(`${baseUrl}${request.url}`, {
      method: request.method,
      headers: {
        ...request.headers,
        ...(authorization !== undefined ? { authorization } : {}),
        ...(request.body ? { 'content-type': request.body.contentType } : {}),
      },
      ...(request.body ? { body: request.body.data } : {}),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'manual',
    });
    // A stream (Server-Sent Events) that was accepted stays open: its status is the answer.
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, body: '' };
    }
    return { status: response.status, body: (await response.text()).slice(0, 300) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The p-th percentile (0-100) of ascending `sorted`; 0 when empty. */
const percentileOf = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : percentile(sorted, p / 100));

export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { baseUrl, operations, roles, known, state, perCell, seed } = options;
  const sessionEnding = options.sessionEnding ?? new Set<string>();
  const findings: Finding[] = [];
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const latencies: number[] = [];
  let refusalsChecked = 0;
  let slowest = { ms: 0, what: '' };
  let requests = 0;
  const started = performance.now();
  const cells = operations.flatMap((operation) => roles.map((role) => ({ operation, role })));
  let done = 0;

  let baseline = await state.settle();
  for (const { operation, role } of cells) {
    const name = `${operation.method} ${operation.path}`;
    done += 1;
    if (role.session && sessionEnding.has(name)) continue;
    const samples = fc.sample(requestsFor(operation, known), {
      numRuns: perCell,
      seed: (seed ^ hashOf(`${name} ${role.name}`)) | 0,
    });
    for (const request of samples) {
      requests += 1;
      byKind[request.kind] = (byKind[request.kind] ?? 0) + 1;
      const t0 = performance.now();
      const answer = await send(baseUrl, request, role.authorization);
      const ms = performance.now() - t0;
      latencies.push(ms);
      if (ms > slowest.ms) slowest = { ms, what: `${describe(request)} as ${role.name}` };
      const finding = (status: Finding['status'], problem: string) =>
        findings.push({
          operation: name,
          role: role.name,
          kind: request.kind,
          request: describe(request),
          status,
          problem,
        });
      if ('error' in answer) {
        byStatus['no answer'] = (byStatus['no answer'] ?? 0) + 1;
        finding('no answer', answer.error);
        baseline = await state.settle();
        continue;
      }
      byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
      if (answer.status >= 500) finding(answer.status, `server error: ${answer.body}`);
      if (answer.status >= 400 && answer.status < 500) {
        const after = await state.snapshot();
        refusalsChecked += 1;
        if (!sameSnapshot(baseline, after)) {
          // Something else may have moved meanwhile (a job, a late consumer): settle and ask again.
          const before = await state.settle();
          const again = await send(baseUrl, request, role.authorization);
          const afterAgain = await state.snapshot();
          if (
            'status' in again &&
            again.status >= 400 &&
            again.status < 500 &&
            !sameSnapshot(before, afterAgain)
          ) {
            finding(answer.status, `refused, yet changed ${changes(before, afterAgain).join(', ')}`);
          }
          baseline = await state.settle();
        }
      } else {
        // Accepted (or failed): let what it set off finish before the next refusal is checked.
        baseline = await state.settle();
      }
    }
    options.onProgress?.(done, cells.length);
  }

  // Forged and malformed tokens authenticate no one: on each secured operation, a well-formed
  // request with each of them is answered 401 (authentication comes before anything else).
  const valid = roles.find((r) => r.authorization?.startsWith('Bearer '))?.authorization?.slice(7);
  if (valid) {
    for (const operation of operations.filter((op) => op.secured)) {
      const name = `${operation.method} ${operation.path}`;
      const [request] = fc.sample(validRequestsFor(operation, known), { numRuns: 1, seed });
      const anonymous = await send(baseUrl, request!, undefined);
      const baselineStatus = 'status' in anonymous ? anonymous.status : 'no answer';
      for (const authorization of badAuthorizations(valid)) {
        requests += 1;
        byKind['bad token'] = (byKind['bad token'] ?? 0) + 1;
        const answer = await send(baseUrl, request!, authorization);
        const status = 'status' in answer ? answer.status : 'no answer';
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (status !== 401) {
          findings.push({
            operation: name,
            role: 'forged token',
            kind: 'bad token',
            request: `${describe(request!)} with Authorization: ${authorization.slice(0, 80)}`,
            status,
            problem: `a forged or malformed token got ${status}, not 401 (without a token: ${baselineStatus})`,
          });
        }
      }
    }
  }

  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests,
    operations: operations.length,
    roles: roles.length,
    byStatus,
    byKind,
    refusalsChecked,
    findings,
    seconds: (performance.now() - started) / 1000,
    latencyMs: { p50: percentileOf(sorted, 50), p99: percentileOf(sorted, 99), max: sorted.at(-1) ?? 0 },
    slowest: slowest.what,
  };
}

/** The report as lines of text. */
export function formatReport(report: FuzzReport): string {
  const lines = [
    `fuzz: ${report.requests} requests over ${report.operations} operations × ${report.roles} roles in ${report.seconds.toFixed(1)} s`,
    `  by status: ${Object.entries(report.byStatus)
      .map(([s, n]) => `${s}=${n}`)
      .join(' ')}`,
    `  by kind: ${Object.entries(report.byKind)
      .map(([k, n]) => `${k}=${n}`)
      .join(', ')}`,
    `  refused requests checked for changes: ${report.refusalsChecked}`,
    `  latency: p50 ${report.latencyMs.p50.toFixed(1)} ms, p99 ${report.latencyMs.p99.toFixed(1)} ms, max ${report.latencyMs.max.toFixed(0)} ms (${report.slowest.slice(0, 160)})`,
    `  findings: ${report.findings.length}`,
  ];
  for (const f of report.findings.slice(0, 50)) {
    lines.push(`  - ${f.operation} as ${f.role} (${f.kind}): ${f.status}: ${f.problem}\n      ${f.request}`);
  }
  return lines.join('\n');
}
