import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { JOURNEY_PASSWORD, type Session, journeyActors } from '../../../e2e/journey/actors.ts';
import { workContent } from '../../../e2e/journey/work.ts';
import { consumerBacklogs } from './backlog.ts';
import { chaosClient, freshTokens } from './client.ts';
import { type ChaosPlatform, chaosAdmin, startChaosPlatform } from './platform.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

export interface ChaosOptions {
  submissions: number;
  /** Hand-ins in flight at once. */
  concurrency: number;
  /** A random service is SIGKILLed this often while the drive runs. */
  killEveryMs: number;
  /** At most this many service kills (undefined: as many as the drive lasts). */
  maxKills?: number;
  /** The chaos goes on, past the point where every submission is final, until this many service kills. */
  minKills?: number;
  restartNats: boolean;
  restartPostgres: boolean;
  /** How long the platform may take to settle once the drive is over. */
  settleTimeoutMs: number;
  /**
   * After the figures, write one fault of each kind the checks look for into the databases (a
   * submission set back, a verdict turned, a reward altered, a judge fee moved to another review,
   * an account's balance moved, an XP entry deleted, a notification sent twice, a dead letter) and check again: each figure must
   * then fail (`ChaosResult.tampered`). Proves the checks can fail; the platform is thrown away after.
   */
  proveChecks?: boolean;
  log: (line: string) => void;
}

export interface Figure {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ChaosResult {
  ok: boolean;
  figures: Figure[];
  kills: string[];
  sent: number;
  /** 500 answers the clients met (not retried by the client; the actor's loop tried again). */
  serverErrors: number;
  durationMs: number;
  /** With `proveChecks`: the figures again, after the faults were written (each should fail). */
  tampered?: Figure[];
}

const SERVICES = ['engagement', 'identity', 'ledger', 'payouts', 'qc', 'submissions', 'tasks'];
const REWARD = 100;
const JUDGE_FEE = 10;
const XP = 10;
const JUDGES = 4;
/** Decided cases the admin marks as honeypots during the drive: judges meet them as checks, paid later. */
const HONEYPOTS = 5;
const FINAL = new Set(['approved', 'rejected']);

/**
 * The judges' common verdict on a submission: about one in sixteen rejected, the same for every
 * judge. (One in eight lowered enough contributors' trust that a fifth of a 300 run's claims were
 * refused TRUST_TOO_LOW.)
 */
export function verdictOf(submissionId: string): 'approve' | 'reject' {
  return createHash('sha256').update(submissionId).digest()[0]! < 16 ? 'reject' : 'approve';
}

/** How many contributors and tasks make `n` hand-ins (each contributor hands in once per task). */
export function shape(n: number): { contributors: number; tasks: number } {
  const contributors = Math.max(1, Math.min(n, Math.ceil(2 * Math.sqrt(n))));
  return { contributors, tasks: Math.ceil(n / contributors) };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const { log } = options;
  log(`starting the platform (its own Postgres and nats-server)…`);
  const platform = await startChaosPlatform(log);
  log(`platform ready at ${platform.baseUrl}; runner output in ${platform.logFile}`);
  try {
    return await drive(platform, options, started);
  } finally {
    await platform.stop();
  }
}

async function drive(platform: ChaosPlatform, options: ChaosOptions, started: number): Promise<ChaosResult> {
  const { log } = options;
  const client = chaosClient(platform.baseUrl);
  const call = (...args: Parameters<typeof client.call>) => client.call(...args);
  const actors = journeyActors(client, () => platform.baseUrl);
  const admin = await client.logIn(chaosAdmin.email, chaosAdmin.password);
  const adminSession: Session = { ...admin, email: chaosAdmin.email };

  // Setup, before any chaos: a funded company, one campaign, tasks, contributors and judges.
  const { contributors: contributorCount, tasks: taskCount } = shape(options.submissions);
  log(`setup: ${contributorCount} contributors × ${taskCount} tasks, ${JUDGES} judges`);
  const perClaim = REWARD + 5 * JUDGE_FEE;
  const budget = options.submissions * perClaim + 10_000;
  const manager = await actors.signUp('company', 'chaos-manager');
  // The campaign's budget plus the platform's fee on it (10 % by default; a 1,000 run's flat margin
  // fell short, and its campaign never became active).
  const companyId = await actors.fundedCompany(manager, adminSession, Math.ceil(budget * 1.1) + 10_000);
  const campaignId = await actors.activeCampaign(manager, companyId, budget, options.submissions, {
    name: 'Chaos labels',
    description: 'Labels handed in while the platform is being killed',
  });
  const tasks: string[] = [];
  for (let t = 0; t < taskCount; t++) {
    tasks.push(
      await actors.publishTask(manager, campaignId, workContent.labels, {
        reward: REWARD,
        judgeFee: JUDGE_FEE,
        xp: XP,
        maxSubmissions: contributorCount,
      }),
    );
  }
  const contributors = await inParallel(
    Array.from({ length: contributorCount }, (_, i) => i),
    4,
    (i) => actors.signUp('contributor', `chaos-${i + 1}`),
  );
  const judges: Session[] = [];
  for (let j = 0; j < JUDGES; j++) {
    const judge = await actors.signUp('contributor', `chaos-judge-${j + 1}`);
    await actors.appointJudge(adminSession, judge);
    judges.push(judge);
  }
  log(`setup done in ${Math.round((Date.now() - started) / 1000)} s; the drive and the chaos start`);

  // The chaos: a random service SIGKILLed every few seconds, through the drive and the judging
  // after it; nats-server and Postgres once each (at the latest when the chaos ends).
  const kills: string[] = [];
  const chaosOn = { value: true };
  const kill = async (victim: string) => {
    const pid = (await platform.pids().catch((): Record<string, number> => ({})))[victim];
    if (!pid) return log(`chaos: no pid for ${victim}`);
    try {
      process.kill(pid, 'SIGKILL');
      kills.push(victim);
      log(`chaos: SIGKILL ${victim} (pid ${pid})`);
    } catch (error) {
      log(`chaos: could not kill ${victim}: ${(error as Error).message}`);
    }
  };
  const chaos = (async () => {
    const natsAt = 2;
    const postgresAt = 4;
    const serviceKills = () => kills.filter((k) => SERVICES.includes(k)).length;
    for (let tick = 1; chaosOn.value || serviceKills() < (options.minKills ?? 0); tick++) {
      // One wound at a time: the next kill waits until every service answers again (on this
      // machine a service takes seconds to boot; kills faster than that only keep it down).
      await platformWhole(platform.baseUrl);
      await sleep(options.killEveryMs * (0.75 + Math.random() / 2));
      if (!chaosOn.value && serviceKills() >= (options.minKills ?? 0)) break;
      if (options.restartNats && tick === natsAt) await kill('nats');
      else if (options.restartPostgres && tick === postgresAt) await kill('postgres');
      else if (options.maxKills === undefined || serviceKills() < options.maxKills)
        await kill(SERVICES[Math.floor(Math.random() * SERVICES.length)]!);
    }
    if (options.restartNats && !kills.includes('nats')) await kill('nats');
    if (options.restartPostgres && !kills.includes('postgres')) await kill('postgres');
  })();

  // The drive: every (contributor, task) slot claims and hands in labels, a few at once; judges
  // keep leasing reviews until every submission is final.
  const slots = Array.from({ length: options.submissions }, (_, k) => ({
    contributor: contributors[k % contributorCount]!,
    taskId: tasks[Math.floor(k / contributorCount)]!,
  }));
  const sent: { id: string; contributorId: string }[] = [];
  const refused: string[] = [];
  let handedIn = 0;
  const judging = { done: false };
  const tokenOf = freshTokens((email) => client.logIn(email, JOURNEY_PASSWORD));
  const judgeLoops = judges.map((judge) => judgeLoop(client, () => tokenOf(judge), judging, log));
  const adminToken = freshTokens((email) => client.logIn(email, chaosAdmin.password));
  const honeypots = markHoneypots(platform, client, () => adminToken(adminSession), judging, log);
  await inParallel(slots, options.concurrency, async ({ contributor, taskId }) => {
    const claimed = await call('POST', `/api/v1/tasks/${taskId}/claim`, {
      token: await tokenOf(contributor),
      key: `chaos-claim-${randomUUID()}`,
    });
    if (claimed.status !== 201) {
      refused.push(`claim ${refusalOf(claimed)}`);
      return;
    }
    const body = {
      assignment_id: (claimed.body as { assignment: { id: string } }).assignment.id,
      payload: { labels: ['dog'] },
      time_spent_seconds: 30,
    };
    const key = `chaos-submit-${randomUUID()}`;
    // Submissions may not have heard of the claim yet (it learns it from tasks' event).
    for (let attempt = 0; ; attempt++) {
      const reply = await call('POST', '/api/v1/submissions', {
        token: await tokenOf(contributor),
        key,
        body,
      });
      if (reply.status === 202) {
        const { submission } = reply.body as { submission: { id: string } };
        sent.push({ id: submission.id, contributorId: contributor.userId });
        break;
      }
      if (attempt >= 120 || (reply.status !== 404 && reply.status !== 409 && reply.status !== 422)) {
        refused.push(`submit ${refusalOf(reply)}`);
        return;
      }
      await sleep(500);
    }
    handedIn += 1;
    if (handedIn % 50 === 0) log(`drive: ${handedIn} of ${options.submissions} handed in`);
  });
  log(`drive: ${sent.length} handed in, ${refused.length} refused; waiting for every one to be final`);

  const pool = (service: string) => {
    const created = new pg.Pool({ connectionString: platform.databaseUrl(service), max: 2 });
    // An idle connection dies with the Postgres the chaos kills; the next query opens another.
    created.on('error', () => {});
    return created;
  };
  const dbs = Object.fromEntries(SERVICES.map((s) => [s, pool(s)])) as Record<string, pg.Pool>;
  const q = async <T>(service: string, text: string, values: unknown[] = []): Promise<T[]> =>
    (await dbs[service]!.query(text, values)).rows as T[];
  try {
    const ids = sent.map((s) => s.id);
    const deadline = Date.now() + options.settleTimeoutMs;
    /** Each submission's status, by id, as the submissions service stores it now. */
    const readStatuses = async () =>
      new Map(
        (
          await q<{ id: string; status: string }>(
            'submissions',
            'select id, status from submissions where id = any($1::uuid[])',
            [ids],
          )
        ).map((r) => [r.id, r.status]),
      );
    let statuses = new Map<string, string>();
    let lastProgress = Date.now();
    for (;;) {
      statuses = await readStatuses().catch(() => new Map<string, string>());
      const open = ids.filter((id) => !FINAL.has(statuses.get(id) ?? ''));
      if (open.length === 0 || Date.now() > deadline) break;
      if (Date.now() - lastProgress >= 30_000) {
        lastProgress = Date.now();
        log(`settle: ${ids.length - open.length} of ${ids.length} final`);
      }
      await sleep(2_000);
    }
    chaosOn.value = false;
    await chaos;
    judging.done = true;
    await Promise.all(judgeLoops);
    log(`honeypots: ${await honeypots} decided cases marked; judges met them as checks`);
    log('every submission final (or the settle time is up); waiting for the figures to stop changing');
    // Its own budget: the settle time may be spent on reaching final states.
    // At least 4 minutes: a nak'ed event's redeliveries back off 1 s, 5 s, 30 s, then 2 minutes.
    await quiescence(q, platform, Math.max(240_000, deadline - Date.now()), log);
    // Read again: a kill after the wait above must not have moved anything back.
    statuses = await readStatuses();

    const figures = await check(q, platform, sent, statuses, refused, options.submissions);
    for (const figure of figures) log(`${figure.ok ? 'PASS' : 'FAIL'} ${figure.name}: ${figure.detail}`);
    log(
      `kills: ${kills.length} (${kills.join(', ')}); restarts seen by the runner: ${platform.restarts().filter((l) => /restarted/.test(l)).length}; calls retried: ${client.retries()}; 500 answers: ${client.serverErrors()}`,
    );
    const result: ChaosResult = {
      ok: figures.every((f) => f.ok),
      figures,
      kills,
      sent: sent.length,
      serverErrors: client.serverErrors(),
      durationMs: Date.now() - started,
    };
    if (!options.proveChecks) return result;
    log('proving the checks: one fault of each kind written into the databases, then checked again');
    await writeFaults(
      q,
      ids.filter((id) => statuses.get(id) === 'approved'),
    );
    const tampered = await check(q, platform, sent, await readStatuses(), refused, options.submissions);
    for (const figure of tampered) log(`${figure.ok ? 'MISSED' : 'CAUGHT'} ${figure.name}: ${figure.detail}`);
    return { ...result, tampered };
  } finally {
    await Promise.all(Object.values(dbs).map((p) => p.end()));
  }
}

/** Resolves once the gateway's /readyz says every service is up (or after 2 minutes). */
async function platformWhole(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const ready = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await sleep(500);
  }
}

/**
 * As an admin would: once cases are decided, marks up to `HONEYPOTS` of them known-good or known-bad
 * (their own verdict), so that judges' leases serve them as honeypots (QC_HONEYPOT_EVERY). Each
 * honeypot review is counted and its fee paid later, through the platform's account: the checks
 * below count those fees with the others. Case ids are read from QC's database (no route lists
 * them); a call a kill interrupts is tried again at the next look.
 */
async function markHoneypots(
  platform: ChaosPlatform,
  client: ReturnType<typeof chaosClient>,
  adminToken: () => Promise<string>,
  judging: { done: boolean },
  log: (line: string) => void,
): Promise<number> {
  const qc = new pg.Pool({ connectionString: platform.databaseUrl('qc'), max: 1 });
  qc.on('error', () => {});
  let marked = 0;
  try {
    while (!judging.done && marked < HONEYPOTS) {
      await sleep(2_000);
      const decided = await qc
        .query<{ id: string; verdict: 'approve' | 'reject' }>(
          `select id, verdict from cases
            where status = 'decided' and method = 'consensus' and honeypot_verdict is null
              and verdict in ('approve', 'reject')
            order by decided_at limit $1`,
          [HONEYPOTS - marked],
        )
        .then((r) => r.rows)
        .catch(() => []);
      for (const kase of decided) {
        const reply = await client.call('POST', `/api/v1/admin/reviews/${kase.id}/honeypot`, {
          token: await adminToken(),
          body: { verdict: kase.verdict },
        });
        if (reply.status === 200) marked += 1;
        else log(`honeypots: marking ${kase.id} answered ${reply.status}; tried again later`);
      }
    }
  } finally {
    await qc.end();
  }
  return marked;
}

/** A judge leases and votes until told to stop; a lost answer is retried by the client. */
async function judgeLoop(
  client: ReturnType<typeof chaosClient>,
  tokenOf: () => Promise<string>,
  judging: { done: boolean },
  log: (line: string) => void,
): Promise<void> {
  const call = (...args: Parameters<typeof client.call>) => client.call(...args);
  while (!judging.done) {
    const lease = await call('GET', '/api/v1/reviews/next?type=image', { token: await tokenOf() });
    if (lease.status !== 200) {
      await sleep(1_000);
      continue;
    }
    const { review } = lease.body as {
      review: { id: string; submission_id: string; submission_url: string };
    };
    await call('GET', review.submission_url, { token: await tokenOf() });
    const verdict = verdictOf(review.submission_id);
    const vote = await call('POST', `/api/v1/reviews/${review.id}`, {
      token: await tokenOf(),
      body:
        verdict === 'approve'
          ? { verdict, quality_score: 0.9, reasons: [] }
          : { verdict, quality_score: 0.1, reasons: ['LOW_QUALITY'] },
    });
    if (vote.status !== 200 && vote.status !== 409) {
      log(`judge: vote answered ${vote.status} ${JSON.stringify(vote.body).slice(0, 200)}`);
      await sleep(500);
    }
  }
}

type Query = <T>(service: string, text: string, values?: unknown[]) => Promise<T[]>;

/**
 * Waits until what every service has handled and written stops changing for 15 s, with no
 * unpublished outbox row and no message JetStream still holds for a consumer (pending, or given
 * and unacknowledged: a nak'ed event waits out a backoff of up to 2 minutes without touching a table).
 */
async function quiescence(
  q: Query,
  platform: ChaosPlatform,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<void> {
  const fingerprint = async () => {
    const parts: string[] = [];
    for (const service of SERVICES) {
      const [row] = await q<{ handled: string; unpublished: string }>(
        service,
        `select (select count(*) from inbox) as handled,
                (select count(*) from outbox where published_at is null) as unpublished`,
      ).catch(() => [{ handled: '?', unpublished: '?' }]);
      parts.push(`${service}:${row!.handled}/${row!.unpublished}`);
    }
    // A honeypot review is counted (and its fee asked for) only when due: as long after it as a
    // real case took to settle. Until none is left, QC will still write.
    const [due] = await q<{ n: string }>(
      'qc',
      `select count(*) as n from reviews where kind = 'honeypot' and status = 'submitted' and counted_at is null`,
    ).catch(() => [{ n: '?' }]);
    parts.push(`honeypots-due/${due!.n}`);
    return parts.join(' ');
  };
  const owed = async (): Promise<string | undefined> => {
    const backlogs = await consumerBacklogs(platform.natsUrl, platform.dataDir, async (service) =>
      (await q<{ consumer: string }>(service, 'select distinct consumer from inbox')).map((r) => r.consumer),
    ).catch((error: unknown) => [{ consumer: `(${String(error)})`, pending: -1, ackPending: -1 }]);
    const busy = backlogs.filter((b) => b.pending !== 0 || b.ackPending !== 0);
    return busy.length ? busy.map((b) => `${b.consumer} ${b.pending}+${b.ackPending}`).join(', ') : undefined;
  };
  const deadline = Date.now() + Math.max(timeoutMs, 30_000);
  let last = '';
  let lastOwed: string | undefined;
  let stableSince = Date.now();
  for (;;) {
    const now = await fingerprint();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (!now.includes('?') && !/\/[1-9]/.test(now) && Date.now() - stableSince >= 15_000) {
      const waiting = await owed();
      if (!waiting) return;
      if (Date.now() > deadline) {
        log(`quiescence: consumers still owed messages when the time was up: ${waiting}`);
        return;
      }
      if (waiting !== lastOwed)
        log(`quiescence: tables still, but JetStream still holds (pending+unacked): ${waiting}`);
      lastOwed = waiting;
    }
    if (Date.now() > deadline) {
      log(`quiescence: still changing when the time was up (${now})`);
      return;
    }
    await sleep(2_500);
  }
}

async function check(
  q: Query,
  platform: ChaosPlatform,
  sent: { id: string; contributorId: string }[],
  statuses: Map<string, string>,
  refused: string[],
  requested: number,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const ids = sent.map((s) => s.id);
  const approved = ids.filter((id) => statuses.get(id) === 'approved');
  const rejected = ids.filter((id) => statuses.get(id) === 'rejected');
  const lost = ids.filter((id) => !FINAL.has(statuses.get(id) ?? ''));
  figures.push({
    name: 'no submission lost',
    ok: lost.length === 0 && sent.length > 0,
    detail:
      `${requested} requested, ${sent.length} accepted (202), ${refused.length} refused by the API` +
      `${refused.length ? ` (${tally(refused)})` : ''}; final: ${approved.length} approved + ${rejected.length} rejected;` +
      ` not final: ${lost.length}${
        lost.length
          ? ` (${lost
              .slice(0, 5)
              .map((id) => `${id}=${statuses.get(id) ?? 'missing'}`)
              .join(', ')})`
          : ''
      }`,
  });
  const wrongVerdict = [...approved, ...rejected].filter(
    (id) => (statuses.get(id) === 'approved' ? 'approve' : 'reject') !== verdictOf(id),
  );
  figures.push({
    name: 'verdicts as the judges voted',
    ok: wrongVerdict.length === 0,
    detail: `${wrongVerdict.length} final states differ from the judges' unanimous vote`,
  });

  // Rewards: exactly one posted reward transfer per approved submission, none for a rejected one,
  // and each contributor's wallet earned exactly what their approvals are worth.
  const rewards = await q<{ submission_id: string; n: string; amount: string; state: string }>(
    'ledger',
    `select metadata->>'submission_id' as submission_id, count(*) as n, sum(amount) as amount,
            string_agg(state, ',') as state
       from transfers where code = 'reward' and metadata->>'submission_id' = any($1::text[])
      group by 1`,
    [ids],
  );
  const rewardBy = new Map(rewards.map((r) => [r.submission_id, r]));
  const unpaid = approved.filter((id) => !rewardBy.has(id));
  const twice = rewards.filter(
    (r) => Number(r.n) !== 1 || Number(r.amount) !== REWARD || r.state !== 'posted',
  );
  const paidRejected = rejected.filter((id) => rewardBy.has(id));
  const lines = await q<{ submission_id: string; n: string }>(
    'ledger',
    `select metadata->>'submission_id' as submission_id, count(*) as n from statement_lines
      where code = 'reward' and direction = 'credit' and phase = 'posted'
        and metadata->>'submission_id' = any($1::text[]) group by 1 having count(*) > 1`,
    [ids],
  );
  const expectedEarned = new Map<string, number>();
  for (const s of sent) {
    if (statuses.get(s.id) === 'approved')
      expectedEarned.set(s.contributorId, (expectedEarned.get(s.contributorId) ?? 0) + REWARD);
  }
  const wallets = await q<{ user_id: string; total_earned: string }>(
    'ledger',
    `select user_id::text, total_earned from wallets where user_id = any($1::uuid[]) and currency = 'USD'`,
    [[...new Set(sent.map((s) => s.contributorId))]],
  );
  const walletOff = [...new Set(sent.map((s) => s.contributorId))].filter(
    (user) =>
      Number(wallets.find((w) => w.user_id === user)?.total_earned ?? 0) !== (expectedEarned.get(user) ?? 0),
  );
  figures.push({
    name: 'each approved submission paid exactly once',
    ok: unpaid.length + twice.length + paidRejected.length + lines.length + walletOff.length === 0,
    detail:
      `${rewards.length} reward transfers for ${approved.length} approvals; unpaid ${unpaid.length}` +
      `${unpaid.length ? ` (${unpaid.slice(0, 5).join(', ')})` : ''}, paid other than once ${twice.length},` +
      ` rejected but paid ${paidRejected.length}, doubled statement lines ${lines.length}, contributor wallets off ${walletOff.length} of ${expectedEarned.size}`,
  });

  // Judge fees: every review QC counted (a fee-earned event in its outbox, a honeypot's included)
  // paid once by the ledger.
  const counted = await q<{ review_id: string; judge_id: string; amount: string; type: string }>(
    'qc',
    `select payload->'data'->>'review_id' as review_id, payload->'data'->>'judge_id' as judge_id,
            payload->'data'->'fee'->>'amount' as amount, type
       from outbox where type in ('qc.review.fee-earned.v1', 'qc.honeypot.fee-earned.v1')`,
  );
  const honeypotFees = counted.filter((c) => c.type === 'qc.honeypot.fee-earned.v1').length;
  const countedIds = counted.filter((c) => Number(c.amount) > 0).map((c) => c.review_id);
  const fees = await q<{ review_id: string; n: string; amount: string }>(
    'ledger',
    `select metadata->>'review_id' as review_id, count(*) as n, sum(amount) as amount from transfers
      where code = 'judge_fee' and state = 'posted' group by 1`,
  );
  const feeBy = new Map(fees.map((f) => [f.review_id, f]));
  const feeUnpaid = countedIds.filter((id) => !feeBy.has(id));
  const feeExtra = fees.filter((f) => !countedIds.includes(f.review_id) || Number(f.n) !== 1);
  const countedTwice = countedIds.length - new Set(countedIds).size;
  figures.push({
    name: "each counted review's fee paid once",
    ok: feeUnpaid.length + feeExtra.length + countedTwice === 0 && countedIds.length > 0,
    detail: `${countedIds.length} reviews counted by QC (${honeypotFees} of them honeypots; ${countedTwice} counted twice), ${fees.length} judge fees paid; unpaid ${feeUnpaid.length}, paid without a count or more than once ${feeExtra.length}`,
  });

  // XP: one entry per approval, none for a rejection; standings equal the sum of their entries.
  const xp = await q<{ source_id: string; n: string }>(
    'engagement',
    `select source_id, count(*) as n from xp_entries where source = 'submission' and source_id = any($1::text[]) group by 1`,
    [ids],
  );
  const xpBy = new Map(xp.map((x) => [x.source_id, Number(x.n)]));
  const xpMissing = approved.filter((id) => xpBy.get(id) !== 1);
  const xpForRejected = rejected.filter((id) => xpBy.has(id));
  const standingsOff = await q<{ user_id: string }>(
    'engagement',
    `select s.user_id from standings s
       left join (select user_id, sum(amount) as total from xp_entries group by 1) e using (user_id)
      where s.xp <> greatest(coalesce(e.total, 0), 0)`,
  );
  figures.push({
    name: 'XP awarded exactly once per approval',
    ok: xpMissing.length + xpForRejected.length + standingsOff.length === 0,
    detail: `${xp.length} submission XP entries for ${approved.length} approvals; approvals without exactly one ${xpMissing.length}, rejections with XP ${xpForRejected.length}, standings differing from their entries ${standingsOff.length}`,
  });

  const duplicates = await q<{ user_id: string; kind: string; n: string }>(
    'engagement',
    `select user_id, kind, count(*) as n from notifications group by user_id, kind, data having count(*) > 1`,
  );
  const [notes] = await q<{ n: string }>('engagement', 'select count(*) as n from notifications');
  figures.push({
    name: 'no duplicate notification',
    ok: duplicates.length === 0,
    detail: `${notes?.n ?? 0} notifications; ${duplicates.length} (user, kind, data) pairs sent more than once${duplicates.length ? ` e.g. ${duplicates[0]!.kind} ×${duplicates[0]!.n}` : ''}`,
  });

  const audit = await ledgerAudit(platform.databaseUrl('ledger'));
  // The report marks a warning "!": name each, not only their count.
  const warnings = audit.output
    .split('\n')
    .filter((line) => line.trimStart().startsWith('! '))
    .map((line) => line.trim().slice(2));
  figures.push({
    name: 'ledger:audit verify (the log replayed = the account balances)',
    ok: audit.code === 0,
    detail:
      `exit ${audit.code}: ${audit.output.trim().split('\n').slice(-4).join(' | ')}` +
      (warnings.length > 0 ? `; warnings: ${warnings.join(' | ')}` : ''),
  });

  // The other projections (statements, transfers, wallets, campaign budgets) against the projector's
  // own rebuild of the log, in temporary tables: nothing changes.
  const rebuild = await ledgerScript('services/ledger/scripts/rebuild-projections.ts', [
    '--check',
    '--database-url',
    platform.databaseUrl('ledger'),
  ]);
  figures.push({
    name: 'ledger projections = a rebuild of the log',
    ok: rebuild.code === 0,
    detail: `exit ${rebuild.code}: ${rebuild.output.trim().split('\n').slice(0, 6).join(' | ')}`,
  });

  const dead: string[] = [];
  for (const service of SERVICES) {
    const rows = await q<{ consumer: string; type: string; error_code: string; error: string }>(
      service,
      'select consumer, type, error_code, error from dead_letters where replayed_at is null and dismissed_at is null order by id',
    );
    for (const r of rows)
      dead.push(`${service}/${r.consumer} ${r.type} ${r.error_code}: ${r.error.slice(0, 160)}`);
  }
  figures.push({
    name: 'dead letters',
    ok: dead.length === 0,
    detail: dead.length ? `${dead.length}: ${dead.slice(0, 5).join(' ; ')}` : '0',
  });
  return figures;
}

/**
 * One fault for each check, written the way a bug or a hand in the database would leave it, each on
 * its own approved submission. Needs four approved submissions.
 */
async function writeFaults(q: Query, approved: readonly string[]): Promise<void> {
  const [lost, turned, overpaid, noXp] = approved;
  if (noXp === undefined)
    throw new Error(`proving the checks needs 4 approved submissions, not ${approved.length}`);
  const one = async (service: string, text: string, values: unknown[] = []) => {
    const rows = await q<{ n: string }>(
      service,
      `with done as (${text} returning 1) select count(*) as n from done`,
      values,
    );
    if (Number(rows[0]?.n) !== 1)
      throw new Error(`writing a fault in ${service} touched ${rows[0]?.n} rows: ${text}`);
  };
  // No submission lost: one goes back to review. Verdicts as voted: an approval turned to rejected.
  await one('submissions', `update submissions set status = 'in_review' where id = $1`, [lost]);
  await one('submissions', `update submissions set status = 'rejected' where id = $1`, [turned]);
  // Paid once: a reward's amount changed in the ledger's transfers (the rebuild's check sees it too).
  await one(
    'ledger',
    `update transfers set amount = amount + 1 where id = (select id from transfers
       where code = 'reward' and metadata->>'submission_id' = $1 limit 1)`,
    [overpaid],
  );
  // A judge fee moved to a review QC never counted: that review unpaid, a fee without a count.
  await one(
    'ledger',
    `update transfers set metadata = jsonb_set(metadata, '{review_id}', to_jsonb('tampered-' || id::text))
      where id = (select id from transfers where code = 'judge_fee' and state = 'posted' limit 1)`,
  );
  // The audit's replay: one account's balance moved.
  await one(
    'ledger',
    `update account_balances set credits_posted = credits_posted + 1
      where (account_id, currency) = (select account_id, currency from account_balances
                                       where kind = 'user_available' limit 1)`,
  );
  await one('engagement', `delete from xp_entries where source = 'submission' and source_id = $1`, [noXp]);
  await one(
    'engagement',
    `insert into notifications (id, user_id, kind, title, body, data, source_key, created_at)
     select gen_random_uuid(), user_id, kind, title, body, data, source_key || ':again', created_at
       from notifications limit 1`,
  );
  await one(
    'qc',
    `insert into dead_letters (consumer, nats_subject, payload, error_code, error, deliveries)
     values ('chaos-proof', 'chaos.proof', '{}', 'TAMPERED', 'written by the chaos harness to prove the check', 1)`,
  );
}

/** "403 TASK_NOT_ELIGIBLE TRUST_TOO_LOW": what a refusal says, without its ids. */
function refusalOf(reply: { status: number; body: unknown }): string {
  const body = (reply.body ?? {}) as { code?: string; reasons?: string[] };
  return [reply.status, body.code ?? '', ...(body.reasons ?? [])].join(' ').trim();
}

/** "claim 403 X ×3, submit 409 Y ×1". */
function tally(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => `${item} ×${n}`).join(', ');
}

function ledgerAudit(databaseUrl: string): Promise<{ code: number | null; output: string }> {
  return ledgerScript('services/ledger/scripts/audit.ts', ['verify', '--database-url', databaseUrl]);
}

/** Runs one of the ledger's scripts to its end: its exit code and everything it printed. */
function ledgerScript(script: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
