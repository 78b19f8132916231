/**
 * `npm run demo`: fills a running `npm start` with a small, living platform, through the gateway
 * only (e2e/journey/actors.ts, the steps the journey spec proves): two companies, each with a
 * funded campaign and a recording task; contributors with profiles who claim and hand in
 * recordings (some silent, which pre-validation refuses); judges appointed by the admin who review
 * everything to a consensus, approving most and rejecting some; one split between five judges,
 * escalated and decided by the admin; rewards and judge fees paid; two withdrawals processed.
 * Each run adds new people and companies (fresh emails), so a second run breaks nothing.
 *
 *   npm run demo [-- --gateway http://127.0.0.1:8080 --contributors 50
 *                    --admin-email you@example.com --admin-password '...']
 *
 * The admin's credentials also come from ADMIN_EMAIL / ADMIN_PASSWORD (those `npm start` was given).
 */
import { parseArgs } from 'node:util';
import { gatewayClient } from '../../../e2e/client.ts';
import { journeyActors, JOURNEY_PASSWORD, type Session } from '../../../e2e/journey/actors.ts';
import type { Platform } from '../../../e2e/platform.ts';

const REWARD = 800;
const JUDGE_FEE = 20;
const XP = 150;
const WITHDRAWAL = 600;
/** Three who review everything, five more for the split. */
const JUDGES = 8;

interface Options {
  gateway: string;
  contributors: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: 'string', default: process.env.DEMO_GATEWAY ?? 'http://127.0.0.1:8080' },
      contributors: { type: 'string', default: process.env.DEMO_CONTRIBUTORS ?? '50' },
      'admin-email': { type: 'string' },
      'admin-password': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npm run demo -- [--gateway URL] [--contributors N] [--admin-email E --admin-password P]\n',
    );
    process.exit(0);
  }
  const contributors = Number(values.contributors);
  if (!Number.isInteger(contributors) || contributors < 4 || contributors > 500) {
    throw new DemoError('--contributors must be a whole number from 4 to 500');
  }
  return {
    gateway: values.gateway.replace(/\/+$/, ''),
    contributors,
    adminEmail: values['admin-email'] ?? process.env.ADMIN_EMAIL,
    adminPassword: values['admin-password'] ?? process.env.ADMIN_PASSWORD,
  };
}

class DemoError extends Error {}

/** One line, redrawn on a terminal; plain lines otherwise (a pipe, CI). */
function progress(total: number) {
  let done = 0;
  const tty = process.stdout.isTTY;
  return {
    step(what: string) {
      done += 1;
      const width = 30;
      const filled = Math.min(width, Math.round((done / total) * width));
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${what}`;
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else process.stdout.write(`${line}\n`);
    },
    end() {
      if (tty) process.stdout.write('\n');
    },
  };
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const health = await fetch(`${opts.gateway}/readyz`).catch(() => undefined);
  if (!health) {
    throw new DemoError(
      `no platform is running at ${opts.gateway}: start it with \`npm start\`, then run the demo again`,
    );
  }
  if (!health.ok)
    throw new DemoError(
      `the platform at ${opts.gateway} is not ready yet (/readyz ${health.status}): wait a moment`,
    );
  if (!opts.adminEmail || !opts.adminPassword) {
    throw new DemoError(
      'the demo needs an admin: start `npm start` with ADMIN_EMAIL and ADMIN_PASSWORD (and give them to the demo the same way), ' +
        'or pass --admin-email and --admin-password',
    );
  }

  const platform: Platform = { baseUrl: opts.gateway, output: () => '', stop: async () => null };
  const client = gatewayClient(() => platform);
  const actors = journeyActors(client, () => opts.gateway);
  const admin: Session = {
    ...(await client.logIn(opts.adminEmail, opts.adminPassword)),
    email: opts.adminEmail,
  };

  const n = opts.contributors;
  const silentEvery = 10;
  const rejectEvery = 7;
  // The last contributor hands in after everything else is judged: their work is the split.
  const regular = n - 1;
  const silentCount = Array.from({ length: regular }, (_, i) => i).filter(
    (i) => i % silentEvery === silentEvery - 1,
  ).length;
  const reviewable = regular - silentCount;
  const bar = progress(2 * 3 + n + JUDGES + regular + 3 * reviewable + 1 + 5 + 1 + 2);

  // Companies, each with a funded campaign and a recording task.
  const budget = Math.ceil(n / 2) * (REWARD + 5 * JUDGE_FEE) + 5_000;
  const companies: { manager: Session; companyId: string; campaignId: string; taskId: string }[] = [];
  for (const label of ['acme', 'globex']) {
    const manager = await actors.signUp('company', `${label}-manager`);
    bar.step(`${label}: manager signed up`);
    const companyId = await actors.fundedCompany(manager, admin, budget * 2);
    const campaignId = await actors.activeCampaign(manager, companyId, budget, n);
    bar.step(`${label}: campaign funded and active`);
    const taskId = await actors.audioTask(manager, campaignId, {
      reward: REWARD,
      judgeFee: JUDGE_FEE,
      xp: XP,
      maxSubmissions: Math.ceil(n / 2) + 1,
    });
    bar.step(`${label}: task published`);
    companies.push({ manager, companyId, campaignId, taskId });
  }

  const contributors: Session[] = [];
  for (let i = 0; i < n; i++) {
    contributors.push(await actors.signUp('contributor', `contributor-${i + 1}`));
    bar.step(`contributor ${i + 1} signed up`);
  }
  const judges: Session[] = [];
  for (let i = 0; i < JUDGES; i++) {
    const judge = await actors.signUp('contributor', `judge-${i + 1}`);
    const appointed = await client.call('POST', '/api/v1/admin/judges', {
      token: admin.token,
      body: { user_id: judge.userId },
    });
    if (appointed.status !== 200) throw new DemoError(`could not appoint a judge: ${appointed.status}`);
    judges.push(judge);
    bar.step(`judge ${i + 1} appointed`);
  }

  // Hand-ins: every tenth one silent (pre-validation refuses it), the rest go to review; every
  // seventh in review is rejected by the judges.
  const rejected = new Set<string>();
  const approved: Session[] = [];
  let inReview = 0;
  const inReviewIds: string[] = [];
  for (const [i, contributor] of contributors.slice(0, regular).entries()) {
    const company = companies[i % companies.length]!;
    const silent = i % silentEvery === silentEvery - 1;
    const id = await actors.handInRecording(contributor, company.taskId, {
      silent,
      expect: silent ? 'rejected' : 'in_review',
    });
    if (!silent) {
      inReview += 1;
      inReviewIds.push(id);
      if (inReview % rejectEvery === 0) rejected.add(id);
      else approved.push(contributor);
    }
    bar.step(`hand-in ${i + 1}${silent ? ' (silent: refused at screening)' : ''}`);
  }

  // Three judges review every one to a consensus.
  for (const [j, judge] of judges.slice(0, 3).entries()) {
    let done = 0;
    await actors.judgeReviews(
      judge,
      inReviewIds,
      (id) => (rejected.has(id) ? 'reject' : 'approve'),
      () => bar.step(`judge ${j + 1}: review ${++done} of ${reviewable}`),
    );
  }

  // The split: the last hand-in, five judges who cannot agree, the admin decides. Judges new to the
  // platform: the three above have a record by now, and QC weighs their votes by it (two of them
  // agreeing would be a consensus, not a split).
  const splitter = contributors[regular]!;
  const splitId = await actors.handInRecording(splitter, companies[0]!.taskId);
  bar.step('the split handed in');
  for (const [index, verdict] of (['approve', 'reject', 'approve', 'reject', 'approve'] as const).entries()) {
    await actors.reviewOnce(judges[3 + index]!, splitId, verdict);
    bar.step(`split: judge ${index + 1} voted ${verdict}`);
  }
  await actors.decideEscalation(admin, splitId, 'approve');
  bar.step('split decided by the admin');

  // Two approved contributors withdraw part of their reward once it arrived.
  const withdrawers = approved.slice(0, 2);
  for (const [k, contributor] of withdrawers.entries()) {
    await client.waitFor('a reward never arrived', 60_000, async () => {
      const reply = await client.call('GET', '/api/v1/wallet', { token: contributor.token });
      const wallet = reply.body as { available?: { amount: number } };
      return (wallet.available?.amount ?? 0) >= REWARD ? true : undefined;
    });
    await actors.withdraw(contributor, admin, WITHDRAWAL);
    bar.step(`withdrawal ${k + 1} paid out`);
  }
  bar.end();
  const refusedAtScreening = silentCount;

  type Money = { amount: number; currency: string };
  const summary = (await client.call('GET', '/api/v1/admin/ledger/summary', { token: admin.token })).body as {
    user_liability?: Money;
    company_credits?: Money;
    campaign_escrow?: Money;
    revenue?: Money;
    balanced?: boolean;
  };
  const dashboard = (await client.call('GET', '/api/v1/admin/dashboard', { token: admin.token })).body as {
    pending_reviews?: number | null;
    escalations?: number | null;
  };
  const money = (m: Money | undefined) => (m ? `${(m.amount / 100).toFixed(2)} ${m.currency}` : 'n/a');
  const lines = [
    '',
    'Demo data created through the gateway:',
    `  2 companies (${companies.map((c) => c.companyId).join(', ')}), each with a funded campaign and a recording task`,
    `  ${n} contributors, ${JUDGES} judges; ${reviewable + 1} recordings reviewed, ${refusedAtScreening} refused at screening,`,
    `  ${rejected.size} rejected by the judges, 1 split escalated and approved by the admin, ${withdrawers.length} withdrawals paid out`,
    '',
    `Logins to try (password for all: ${JOURNEY_PASSWORD}):`,
    `  company manager  ${companies[0]!.manager.email}`,
    `  contributor      ${withdrawers[0]?.email ?? contributors[0]!.email}`,
    `  judge            ${judges[0]!.email}`,
    `  admin            ${opts.adminEmail}`,
    '',
    'Money on the platform now (all runs):',
    `  owed to contributors and judges  ${money(summary.user_liability)}`,
    `  company credits                   ${money(summary.company_credits)}`,
    `  campaign escrow                   ${money(summary.campaign_escrow)}`,
    `  platform revenue                  ${money(summary.revenue)}`,
    `  ledger balanced                   ${String(summary.balanced)}`,
    `  pending reviews / escalations     ${String(dashboard.pending_reviews)} / ${String(dashboard.escalations)}`,
    '',
    `Open ${opts.gateway}/docs for the API.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof DemoError) process.stderr.write(`demo: ${error.message}\n`);
  else
    process.stderr.write(
      `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
