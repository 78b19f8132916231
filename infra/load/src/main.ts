/**
 * `npm run load`: the platform under stress, through the gateway, with figures beside the machine's
 * CPU. Scenarios (each for --seconds):
 *   feed          GET /api/v1/tasks as real contributors, random filters, over --tasks active tasks and
 *                 --contributors contributors seeded in SQL into the tasks database (bench/seed.ts):
 *                 flat out (its throughput), then paced at --feed-rate req/s (100; its latency target);
 *   claims        64 (--workers) contributors claiming tasks published through the API;
 *   submissions   the same contributors handing in those claims;
 *   end to end    claim + hand in a golden task (decided at once, no judges) until the ledger credits
 *                 the contributor's wallet: approvals/s and submission → credit latency, with a
 *                 breakdown of where the time goes from the services' own timestamps;
 *   e2e-paced     the same, started at a steady --e2e-rate per second (10) below what the platform
 *                 sustains: the pipeline's latency without a saturated machine's queues;
 *   gateway cost  a trivial route (identity's JWKS) through the gateway and on identity directly.
 *
 *   npm run load [-- --seconds 20 --tasks 100000 --contributors 10000 --workers 64]
 *       starts its own platform (embedded Postgres, the local runner, rate limit raised);
 *   npm run load -- --gateway http://127.0.0.1:8080 --database-url postgres://…/postgres
 *       [--identity-url http://127.0.0.1:4001] against a running `npm start` (start it with
 *       GATEWAY_RATE_LIMIT_MAX=1000000 RATE_LIMIT_MAX=1000000, or the limits answer 429s: all the load
 *       comes from one address); ADMIN_EMAIL / ADMIN_PASSWORD.
 *   --report file.json   writes the rows as JSON;  --only feed,gateway   runs some scenarios.
 *   --statements         end to end: also the statements each approval costs per database and the
 *                        slowest ones (pg_stat_statements; the platform started here only).
 *   --statements-out f   with --statements: every statement counted, its calls and time, as JSON
 *                        ({approvals, statements}), to find what a change should cut.
 *   --cpu-prof dir       end to end: every service and the gateway of the platform started here run with
 *                        `node --cpu-prof` into dir; after the run, the CPU each spent per approval
 *                        during the end-to-end scenarios, by what the code is (library, our folder).
 *
 * Seeded feed data is removed afterwards; the users, company, campaigns and work made through the API
 * stay (they are real data of a real platform).
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { Pool } from 'undici';
import { gatewayClient } from '../../../e2e/client.ts';
import { journeyActors, type Session } from '../../../e2e/journey/actors.ts';
import { workContent } from '../../../e2e/journey/work.ts';
import { scriptPlatform } from '../../../e2e/platform.ts';
import {
  type FeedSeed,
  feedDataCounts,
  feedQueryString,
  openTasksDatabase,
  prng,
  randomFilters,
  removeFeedData,
  seedFeedData,
} from '../../../services/tasks/bench/seed.ts';
import { profileBreakdown } from '../../../services/ledger/bench/cpu-profile.ts';
import { databaseName, databaseUrl } from '../../local/src/services.ts';
import { PIDS_FILE, type RunnerPids } from '../../local/src/supervision.ts';
import {
  closedLoop,
  cpuWindow,
  formatTable,
  type LoopResult,
  pacedLoop,
  percentile,
  processCpuWindow,
  type Row,
  rowOf,
  type StatementFigures,
  statementsPerApproval,
  type Step,
} from './measure.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    seconds: { type: 'string', default: '20' },
    tasks: { type: 'string', default: '100000' },
    contributors: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '64' },
    /** The feed's steady rate, where its latency target is judged. */
    'feed-rate': { type: 'string', default: '100' },
    /** The paced end-to-end run's rate of hand-ins per second: below what the platform sustains. */
    'e2e-rate': { type: 'string', default: '10' },
    /** Connections of the feed's and the gateway cost's load (autocannon). */
    connections: { type: 'string', default: '16' },
    gateway: { type: 'string' },
    'database-url': { type: 'string' },
    'identity-url': { type: 'string' },
    report: { type: 'string' },
    only: { type: 'string' },
    /** End to end: also count the statements each approval costs, per database (pg_stat_statements). */
    statements: { type: 'boolean', default: false },
    'statements-out': { type: 'string' },
    /** Profile every process of the platform (`node --cpu-prof`) into this directory. */
    'cpu-prof': { type: 'string' },
  },
});
const PROFILE_DIR = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
if (PROFILE_DIR && values.gateway)
  throw new Error('--cpu-prof profiles a platform started here: drop --gateway');

const SECONDS = Number(values.seconds);
const TASKS = Number(values.tasks);
const CONTRIBUTORS = Number(values.contributors);
const WORKERS = Number(values.workers);
const CONNECTIONS = Number(values.connections);
const E2E_RATE = Number(values['e2e-rate']);
const wanted = new Set((values.only ?? 'feed,claims,e2e,e2e-paced,gateway').split(','));
/** Tasks each worker can claim in a scenario: more than it can get through in --seconds. */
const TASKS_PER_WORKER = Math.max(20, Math.ceil(SECONDS * 8));

const log = (line: string) => process.stdout.write(`${line}\n`);
const started = performance.now();
const since = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

const cleanups: (() => Promise<unknown>)[] = [];
const rows: Row[] = [];
/** Where the end-to-end time goes, per end-to-end row that explains itself. */
const breakdowns: { label: string; lines: string[] }[] = [];
/** The end-to-end scenarios' windows on the monotonic clock, for --cpu-prof. */
const profiled: ProfiledRun[] = [];

try {
  // ---- the platform -------------------------------------------------------------------------------
  if (!values.gateway) log(`${since()}: starting the platform`);
  const script = await scriptPlatform({
    gateway: values.gateway,
    databaseUrl: values['database-url'],
    env: {
      LOG_LEVEL: 'warn',
      ...(PROFILE_DIR ? { TESSERA_NODE_FLAGS: `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}` } : {}),
    },
    trackStatements: values.statements,
  });
  cleanups.push(() => script.stop());
  const { platform, serverUrl, admin } = script;
  if (PROFILE_DIR) {
    // Which profile is which process: the pid in each file's name, the runner's pid file now (it
    // goes with the platform's data directory at the end).
    const pids = JSON.parse(await readFile(path.join(platform.dataDir!, PIDS_FILE), 'utf8')) as RunnerPids;
    cleanups.push(() => printProfiles(PROFILE_DIR, pids, profiled));
  }
  let identityUrl = values['identity-url'] ?? 'http://127.0.0.1:4001';
  if (!values.gateway) {
    // The runner names each service's port: "services: engagement :41233, identity :40111, …".
    // eslint-disable-next-line no-control-regex -- the runner's output may be coloured
    const plain = platform.output().replace(/\x1b\[[0-9;]*m/g, '');
    const port = /identity :(\d+)/.exec(plain)?.[1];
    if (!port) throw new Error(`the runner did not name identity's port:\n${plain}`);
    identityUrl = `http://127.0.0.1:${port}`;
  }
  const baseUrl = platform.baseUrl;
  await waitReady(baseUrl);
  const client = gatewayClient(() => platform);
  const actors = journeyActors(client, () => baseUrl);
  const dbOf = (service: string) => databaseUrl(serverUrl, databaseName(service));

  log(`${since()}: platform ready at ${baseUrl}; making ${WORKERS} contributors and a funded company`);
  const adminSession = { ...(await client.logIn(admin.email, admin.password)), email: admin.email };
  const manager = await actors.signUp('company', 'load-manager');
  const contributors: Session[] = [];
  for (let i = 0; i < WORKERS; i += 8) {
    const batch = Array.from({ length: Math.min(8, WORKERS - i) }, (_, k) =>
      actors.signUp('contributor', `load-${i + k}`),
    );
    contributors.push(...(await Promise.all(batch)));
  }
  const budget = 2_000_000;
  const companyId = await actors.fundedCompany(manager, adminSession, budget * 3);
  const terms = { reward: 1, judgeFee: 1, xp: 1, maxSubmissions: WORKERS };
  const publish = async (campaignId: string, content: (typeof workContent)['golden']) => {
    const ids: string[] = [];
    for (let i = 0; i < TASKS_PER_WORKER; i += 8) {
      const batch = Array.from({ length: Math.min(8, TASKS_PER_WORKER - i) }, () =>
        actors.publishTask(manager, campaignId, content, terms),
      );
      ids.push(...(await Promise.all(batch)));
    }
    return ids;
  };
  // Both campaigns are funded by the ledger while the feed data is seeded and measured.
  const campaigns = {
    claims: actors.activeCampaign(manager, companyId, budget, 1_000_000, { name: 'Load: claims' }),
    e2e: actors.activeCampaign(manager, companyId, budget, 1_000_000, { name: 'Load: end to end' }),
  };
  void campaigns.claims.catch(() => undefined);
  void campaigns.e2e.catch(() => undefined);
  const regular = { ...workContent.golden, title: 'Is this a greeting? (load)' };
  delete regular.is_golden;
  delete regular.golden_answer;

  const pool = new Pool(baseUrl, { connections: WORKERS + 8, pipelining: 1 });
  cleanups.unshift(() => pool.close());
  const request = async (
    method: 'GET' | 'POST',
    url: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; ms: number }> => {
    const t0 = performance.now();
    const response = await pool.request({
      method,
      path: url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined
          ? { 'content-type': 'application/json', 'idempotency-key': `load-${randomUUID()}` }
          : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.body.text();
    const ms = performance.now() - t0;
    return {
      status: response.statusCode,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      ms,
    };
  };
  const claimOnce = (who: Session, taskId: string) =>
    request('POST', `/api/v1/tasks/${taskId}/claim`, who.token);
  /** Hands in, retrying while submissions has not heard of the claim yet (counted apart). */
  const submit = async (who: Session, assignmentId: string, counters: { unknown: number }) => {
    for (let attempt = 0; ; attempt++) {
      const reply = await request('POST', '/api/v1/submissions', who.token, {
        assignment_id: assignmentId,
        payload: { option: 'yes' },
        time_spent_seconds: 30,
      });
      if (reply.status !== 409 || !JSON.stringify(reply.body).includes('ASSIGNMENT_UNKNOWN') || attempt > 100)
        return reply;
      counters.unknown += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  // ---- feed ---------------------------------------------------------------------------------------
  if (wanted.has('feed'))
    await scenario('feed', async () => {
      const tasksDb = openTasksDatabase(dbOf('tasks'));
      let seed: FeedSeed | undefined;
      try {
        log(`${since()}: seeding ${TASKS} active tasks and ${CONTRIBUTORS} contributors into tasks in SQL`);
        seed = await seedFeedData(tasksDb, {
          tasks: TASKS,
          users: CONTRIBUTORS,
          label: `load ${randomUUID()}`,
        });
        const counts = await feedDataCounts(tasksDb);
        log(`${since()}: tasks holds ${counts.tasks} active tasks, ${counts.contributors} contributors`);
        const random = prng(42);
        let next = 0;
        const feed = (overallRate?: number) =>
          autocannon({
            url: baseUrl,
            // Paced over at most 4: at 16 the same 100 req/s measured p99 119 ms against 32 ms over 4
            // (each connection is paced on its own, so many of them send in bursts).
            connections: overallRate ? Math.min(CONNECTIONS, 4) : CONNECTIONS,
            duration: SECONDS,
            ...(overallRate ? { overallRate } : {}),
            requests: [
              {
                method: 'GET',
                setupRequest: (req) => {
                  const who = contributors[next++ % contributors.length]!;
                  return {
                    ...req,
                    path: `/api/v1/tasks${feedQueryString(randomFilters(random))}`,
                    headers: { authorization: `Bearer ${who.token}` },
                  };
                },
              },
            ],
          });
        // As fast as it goes (the most it serves; latency is then queueing), then at a steady rate
        // below that, where the latency target applies.
        let cpu = cpuWindow();
        const flat = await feed();
        rows.push(
          cannonRow(
            `feed (${TASKS} tasks, ${CONTRIBUTORS} users), flat out`,
            flat,
            cpu.end(),
            '-',
            () => null,
            `${CONNECTIONS} connections, ${contributors.length} real contributors' tokens, random filters`,
          ),
        );
        const rate = Number(values['feed-rate']);
        cpu = cpuWindow();
        const steady = await feed(rate);
        rows.push(
          cannonRow(
            `feed at ${rate} req/s`,
            steady,
            cpu.end(),
            'p99 < 25 ms',
            (r) => r.p99 < 25,
            `the same requests, paced at ${rate} req/s over ${Math.min(CONNECTIONS, 4)} connections (--feed-rate)`,
          ),
        );
      } finally {
        if (seed) await removeFeedData(tasksDb, seed);
        await tasksDb.destroy();
      }
    });

  // ---- end to end (before the claims, whose submissions would queue ahead of it) -----------------
  /**
   * Claims and hands in golden tasks (decided at once, no judges), each started when `drive` says,
   * then waits up to 60 s for the ledger to credit every one: approvals/s and hand-in → credit
   * latency, with where the time goes.
   */
  const endToEnd = async (
    label: string,
    drive: (
      step: (worker: number) => Promise<Step>,
    ) => Promise<LoopResult & { maxStartLagMs?: number; skipped?: number }>,
    target: { text: string; met: (row: Row) => boolean | null; explainAlways: boolean },
  ) => {
    log(`${since()}: publishing ${TASKS_PER_WORKER} golden tasks for ${label}`);
    const taskIds = await publish(await campaigns.e2e, workContent.golden);
    await Promise.all(contributors.map((who) => actors.claim(who, taskIds[0]!)));
    const cursor = contributors.map(() => 1);
    const sent = new Map<string, number>();
    const counters = { unknown: 0 };
    if (values.statements) await statementsReset(serverUrl);
    const cpu = cpuWindow();
    const perProcess = processCpuWindow();
    const loopStart = Date.now();
    const profileWindow = { startUs: monotonicUs(), endUs: 0 };
    const run = await drive(async (w) => {
      const taskId = taskIds[cursor[w]!++];
      if (!taskId) return { outcome: 'done', ms: 0 };
      const who = contributors[w]!;
      const t0 = performance.now();
      const claimReply = await claimOnce(who, taskId);
      if (claimReply.status !== 201)
        return {
          outcome: 'error',
          ms: performance.now() - t0,
          error: `claim ${claimReply.status} ${JSON.stringify(claimReply.body)}`,
        };
      const submittedAt = Date.now();
      const reply = await submit(who, (claimReply.body.assignment as { id: string }).id, counters);
      if (reply.status !== 202)
        return {
          outcome: 'error',
          ms: performance.now() - t0,
          error: `submit ${reply.status} ${JSON.stringify(reply.body)}`,
        };
      sent.set((reply.body.submission as { id: string }).id, submittedAt);
      return { outcome: 'ok', ms: performance.now() - t0 };
    });
    const loopEnd = Date.now();
    // Then wait (up to 60 s) for the ledger to credit every one of them.
    const ledger = new pg.Pool({ connectionString: dbOf('ledger'), max: 1 });
    const submissionsDb = new pg.Pool({ connectionString: dbOf('submissions'), max: 1 });
    const qc = new pg.Pool({ connectionString: dbOf('qc'), max: 1 });
    try {
      const ids = [...sent.keys()];
      const credits = async () =>
        (
          await ledger.query<{ submission_id: string; at: Date }>(
            `select metadata->>'submission_id' submission_id, created_at at from transfers
           where code = 'reward' and metadata->>'submission_id' = any($1::text[])`,
            [ids],
          )
        ).rows;
      let credited = await credits();
      const waitUntil = Date.now() + 60_000;
      while (credited.length < ids.length && Date.now() < waitUntil) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        credited = await credits();
      }
      const cpuFigures = cpu.end();
      const cpuByProcess = perProcess.end();
      profileWindow.endUs = monotonicUs();
      const creditAt = new Map(credited.map((row) => [row.submission_id, row.at.getTime()]));
      const latencies = ids.flatMap((id) => (creditAt.has(id) ? [creditAt.get(id)! - sent.get(id)!] : []));
      const lastCredit = Math.max(loopEnd, ...creditAt.values());
      const missing = ids.length - creditAt.size;
      profiled.push({ label, window: profileWindow, approvals: creditAt.size });
      const row = rowOf(
        label,
        { latencies, errors: run.errors + missing, elapsedMs: lastCredit - loopStart },
        cpuFigures,
        target.text,
        target.met,
        `${ids.length} golden submissions in ${((loopEnd - loopStart) / 1000).toFixed(1)} s, ` +
          `${creditAt.size} credited (${missing} not within 60 s); req/s = credits / (first submission → last credit); ` +
          `latency from the hand-in request sent to the ledger's reward transfer; ${counters.unknown} ASSIGNMENT_UNKNOWN retries` +
          (run.maxStartLagMs !== undefined
            ? `; started at most ${run.maxStartLagMs.toFixed(0)} ms behind schedule, ${run.skipped ?? 0} turns skipped (workers out of tasks)`
            : '') +
          (run.samples.length ? `; errors: ${run.samples.join(' | ')}` : ''),
      );
      rows.push(row);
      if (row.met === false || target.explainAlways) {
        breakdowns.push({
          label,
          lines: [
            ...(await whereTheTimeGoes(ids, sent, creditAt, submissionsDb, qc)),
            cpuPerApproval(cpuByProcess, creditAt.size),
            ...(values.statements
              ? await statementsSince(serverUrl).then(async (statements) => {
                  const out = values['statements-out'];
                  if (out) await writeFile(out, JSON.stringify({ approvals: creditAt.size, statements }));
                  return statementsPerApproval(statements, creditAt.size);
                })
              : []),
          ],
        });
      }
    } finally {
      await Promise.all([ledger.end(), submissionsDb.end(), qc.end()]);
    }
  };

  if (wanted.has('e2e'))
    await scenario('e2e', () =>
      endToEnd(
        'end to end: submission → wallet credit',
        (step) => closedLoop(contributors.length, SECONDS, step),
        { text: '>= 500/s, p99 <= 250 ms', met: (r) => r.rps >= 500 && r.p99 <= 250, explainAlways: false },
      ),
    );
  // The same work started at a steady rate below what the platform sustains: its latency without
  // the queues a saturated machine builds, i.e. what the pipeline's own steps and waits cost.
  if (wanted.has('e2e-paced'))
    await scenario('e2e-paced', () =>
      endToEnd(
        `end to end, paced at ${E2E_RATE}/s: submission → wallet credit`,
        (step) => pacedLoop(contributors.length, E2E_RATE, SECONDS, step),
        { text: '- (latency below capacity)', met: () => null, explainAlways: true },
      ),
    );

  // ---- claims, then submissions ------------------------------------------------------------------
  if (wanted.has('claims'))
    await scenario('claims', async () => {
      log(`${since()}: publishing ${TASKS_PER_WORKER} tasks for the claims`);
      const taskIds = await publish(await campaigns.claims, regular);
      // Warm-up, not measured: the first claim of each contributor waits until tasks knows them.
      await Promise.all(contributors.map((who) => actors.claim(who, taskIds[0]!)));
      const claimed: string[][] = contributors.map(() => []);
      const cursor = contributors.map(() => 1);
      let cpu = cpuWindow();
      const claims = await closedLoop(contributors.length, SECONDS, async (w) => {
        const taskId = taskIds[cursor[w]!++];
        if (!taskId) return { outcome: 'done', ms: 0 };
        const reply = await claimOnce(contributors[w]!, taskId);
        if (reply.status === 201) claimed[w]!.push((reply.body.assignment as { id: string }).id);
        return {
          outcome: reply.status === 201 ? 'ok' : 'error',
          ms: reply.ms,
          error: `${reply.status} ${JSON.stringify(reply.body)}`,
        };
      });
      const ranOut = cursor.filter((c) => c > taskIds.length).length;
      rows.push(
        rowOf(
          `claims (${contributors.length} contributors)`,
          claims,
          cpu.end(),
          '-',
          () => null,
          `${claims.samples.length ? `errors: ${claims.samples.join(' | ')}; ` : ''}${ranOut ? `${ranOut} workers ran out of tasks; ` : ''}each claim holds the campaign's row lock`,
        ),
      );
      const counters = { unknown: 0 };
      cpu = cpuWindow();
      const submissions = await closedLoop(contributors.length, SECONDS, async (w) => {
        const assignmentId = claimed[w]!.shift();
        if (!assignmentId) return { outcome: 'done', ms: 0 };
        const t0 = performance.now();
        const reply = await submit(contributors[w]!, assignmentId, counters);
        return {
          outcome: reply.status === 202 ? 'ok' : 'error',
          ms: performance.now() - t0,
          error: `${reply.status} ${JSON.stringify(reply.body)}`,
        };
      });
      const left = claimed.reduce((n, list) => n + list.length, 0);
      rows.push(
        rowOf(
          `submissions (${contributors.length} contributors)`,
          submissions,
          cpu.end(),
          '-',
          () => null,
          `${submissions.samples.length ? `errors: ${submissions.samples.join(' | ')}; ` : ''}` +
            `${counters.unknown} retries while submissions had not heard of the claim; ` +
            `${left ? `${left} claims left unsubmitted at the end` : 'ran out of claims before the time was up'}`,
        ),
      );
    });

  // ---- the gateway's cost --------------------------------------------------------------------------
  if (wanted.has('gateway'))
    await scenario('gateway', async () => {
      const route = '/.well-known/jwks.json';
      const through: autocannon.Result[] = [];
      const direct: autocannon.Result[] = [];
      const cpuThrough = cpuWindow();
      // Alternating halves, so that a noisy neighbour hurts both alike.
      const half = Math.max(1, Math.round(SECONDS / 2));
      for (let round = 0; round < 2; round++) {
        direct.push(
          await autocannon({ url: `${identityUrl}${route}`, connections: CONNECTIONS, duration: half }),
        );
        through.push(
          await autocannon({ url: `${baseUrl}${route}`, connections: CONNECTIONS, duration: half }),
        );
      }
      const cpu = cpuThrough.end();
      const merge = (results: autocannon.Result[]) => ({
        requests: results.reduce((n, r) => n + r.requests.total, 0),
        seconds: results.reduce((n, r) => n + r.duration, 0),
        errors: results.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0),
        p50: median(results.map((r) => r.latency.p50)),
        p99: Math.max(...results.map((r) => r.latency.p99)),
      });
      const d = merge(direct);
      const g = merge(through);
      const ratio = g.requests / g.seconds / (d.requests / d.seconds);
      const line = (
        scenario: string,
        m: ReturnType<typeof merge>,
        target: string,
        met: boolean | null,
      ): Row => ({
        scenario,
        requests: m.requests,
        seconds: m.seconds,
        rps: m.requests / m.seconds,
        p50: m.p50,
        p99: m.p99,
        errors: m.errors,
        target,
        met,
        cpuPct: cpu.busyPct,
        load1: cpu.load1,
      });
      rows.push(line(`GET ${route} on identity directly`, d, '-', null), {
        ...line(`GET ${route} through the gateway`, g, '>= 0.5x direct', ratio >= 0.5),
        note: `${ratio.toFixed(2)}x the direct req/s (${CONNECTIONS} connections, two alternating rounds each)`,
      });
    });

  log('');
  log(
    `Load on ${os.cpus().length} cores, ${SECONDS} s per scenario; CPU busy = the whole machine's (/proc/stat) over the scenario; load1 at its end`,
  );
  log(formatTable(rows));
  for (const { label, lines } of breakdowns) {
    log('');
    log(`Where the time goes, ${label} (median and p99 of each step, ms):`);
    for (const line of lines) log(`  ${line}`);
  }
  log(`\ntotal ${since()}`);
  if (values.report) await writeFile(values.report, JSON.stringify({ rows, breakdowns }, null, 2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
}

/** Runs one scenario; a failure is reported in the table (as one error) and the others still run. */
async function scenario(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    process.stderr.write(`${name} failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    rows.push({
      scenario: `${name}: FAILED`,
      requests: 0,
      seconds: 0,
      rps: 0,
      p50: Number.NaN,
      p99: Number.NaN,
      errors: 1,
      target: '-',
      met: null,
      cpuPct: 0,
      load1: os.loadavg()[0]!,
      note: message,
    });
  }
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

function cannonRow(
  scenario: string,
  result: autocannon.Result,
  cpu: { busyPct: number; load1: number },
  target: string,
  met: (row: Row) => boolean | null,
  note: string,
): Row {
  const row: Row = {
    scenario,
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    target,
    met: null,
    cpuPct: cpu.busyPct,
    load1: cpu.load1,
    note,
  };
  row.met = met(row);
  return row;
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`${url}/readyz did not answer 200 within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The steps between hand-in and credit, from each service's own timestamps (one machine, one clock):
 * submissions stores it (submitted_at), screens it (its validated event's outbox row: written, then
 * published by the relay), QC opens its case (created_at) and decides it (decided_at),
 * submissions records the verdict (decided_at), the ledger books the reward (created_at).
 */
async function whereTheTimeGoes(
  ids: string[],
  sent: Map<string, number>,
  credit: Map<string, number>,
  submissionsDb: pg.Pool,
  qc: pg.Pool,
): Promise<string[]> {
  const subs = new Map(
    (
      await submissionsDb.query<{ id: string; submitted_at: Date; decided_at: Date | null }>(
        'select id, submitted_at, decided_at from submissions where id = any($1::uuid[])',
        [ids],
      )
    ).rows.map((r) => [r.id, r]),
  );
  const cases = new Map(
    (
      await qc.query<{ submission_id: string; created_at: Date; decided_at: Date | null }>(
        'select submission_id, created_at, decided_at from cases where submission_id = any($1::uuid[])',
        [ids],
      )
    ).rows.map((r) => [r.submission_id, r]),
  );
  // The validated event between them: written by pre-validation, published by the relay.
  const validated = new Map(
    (
      await submissionsDb.query<{ submission_id: string; created_at: Date; published_at: Date | null }>(
        `select payload->'data'->>'submission_id' as submission_id, created_at, published_at from outbox
          where type = 'submissions.submission.validated.v1' and payload->'data'->>'submission_id' = any($1::text[])`,
        [ids],
      )
    ).rows.map((r) => [r.submission_id, r]),
  );
  const steps: [string, number[]][] = [
    ['hand-in sent → stored by submissions', []],
    ['stored → screened (pre-validation)', []],
    ['screened → published to NATS (outbox relay)', []],
    ['published → QC case opened (NATS, QC consumer)', []],
    ['QC case opened → decided (golden)', []],
    ['QC decided → submissions approved (event)', []],
    ['submissions approved → ledger reward booked (event)', []],
  ];
  for (const id of ids) {
    const s = subs.get(id);
    const c = cases.get(id);
    const v = validated.get(id);
    const end = credit.get(id);
    if (!s || !c || !c.decided_at || !s.decided_at || !v?.published_at || end === undefined) continue;
    const points = [
      sent.get(id)!,
      s.submitted_at.getTime(),
      v.created_at.getTime(),
      v.published_at.getTime(),
      c.created_at.getTime(),
      c.decided_at.getTime(),
      s.decided_at.getTime(),
      end,
    ];
    for (let i = 0; i < steps.length; i++) steps[i]![1].push(points[i + 1]! - points[i]!);
  }
  return steps.map(([label, values]) => {
    const sorted = values.sort((a, b) => a - b);
    return `${label.padEnd(52)} p50 ${percentile(sorted, 0.5).toFixed(0).padStart(6)}  p99 ${percentile(sorted, 0.99).toFixed(0).padStart(6)}  (${sorted.length})`;
  });
}

/** Starts pg_stat_statements' counts afresh (the platform's Postgres, started with `trackStatements`). */
async function statementsReset(serverUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query('create extension if not exists pg_stat_statements');
    await client.query('select pg_stat_statements_reset()');
  } finally {
    await client.end();
  }
}

/** Every statement counted since the reset, with its database (named as the service, `tessera_` dropped). */
async function statementsSince(serverUrl: string): Promise<StatementFigures[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ database: string; calls: string; ms: number; query: string }>(
      `select regexp_replace(d.datname, '^tessera_', '') as database, s.calls, s.total_exec_time as ms, s.query
       from pg_stat_statements s join pg_database d on d.oid = s.dbid`,
    );
    return rows.map((row) => ({ ...row, calls: Number(row.calls) }));
  } finally {
    await client.end();
  }
}

interface ProfiledRun {
  label: string;
  window: { startUs: number; endUs: number };
  approvals: number;
}

/** Microseconds on the monotonic clock V8's CPU profiles are timed on. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * After the platform stopped (each process writes its profile as it exits): per end-to-end run, the
 * CPU each process spent per approval in the run's window, and its largest parts by what the code is.
 */
async function printProfiles(dir: string, pids: RunnerPids, runs: readonly ProfiledRun[]): Promise<void> {
  const nameOf = new Map(Object.entries(pids.processes).map(([name, pid]) => [pid, name]));
  const files = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'));
  for (const run of runs) {
    log('');
    log(
      `CPU profile, ${run.label} (${run.approvals} approvals; ms an approval, the largest parts of each process):`,
    );
    // A process's worker threads write profiles of their own: summed under the process's name.
    const perProcess = new Map<string, { busyMs: number; parts: Map<string, number> }>();
    for (const file of files) {
      const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1]);
      const name = nameOf.get(pid);
      if (!name) continue;
      const { busyMs, categories } = await profileBreakdown(path.join(dir, file), [run.window]);
      const sum = perProcess.get(name) ?? { busyMs: 0, parts: new Map<string, number>() };
      sum.busyMs += busyMs;
      for (const [part, ms] of categories) sum.parts.set(part, (sum.parts.get(part) ?? 0) + ms);
      perProcess.set(name, sum);
    }
    const per = (ms: number) => (ms / Math.max(1, run.approvals)).toFixed(2);
    for (const [name, { busyMs, parts }] of [...perProcess].sort((a, b) => b[1].busyMs - a[1].busyMs)) {
      const top = [...parts].sort((a, b) => b[1] - a[1]).slice(0, 8);
      log(
        `  ${name.padEnd(12)} ${per(busyMs).padStart(6)}: ${top.map(([part, ms]) => `${part} ${per(ms)}`).join(', ')}`,
      );
    }
  }
  log(`(profiles in ${dir})`);
}

/** The CPU each kind of process spent per approval over the run, most first. */
function cpuPerApproval(spent: Map<string, number>, approvals: number): string {
  const total = [...spent.values()].reduce((a, b) => a + b, 0);
  const parts = [...spent.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([label, ms]) => `${label} ${(ms / Math.max(1, approvals)).toFixed(1)}`);
  return `CPU per approval, ms (processes' /proc times over the run, ${(total / Math.max(1, approvals)).toFixed(1)} in all): ${parts.join(', ')}`;
}
