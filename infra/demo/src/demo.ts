/**
 * `npm run demo`: fills a running `npm start` with a small, living platform, through the gateway
 * only (e2e/journey/actors.ts, the steps the journey spec proves):
 * - two companies, each with a viewer who joined by invitation, an API key, a funded recording
 *   campaign and a campaign of every other kind of work (photos, labels, writing, meaning,
 *   comparisons, a golden task); the first also runs a private campaign for invited writers;
 * - contributors with profiles and languages who claim and hand in generated media (WAV
 *   recordings, PNG photos) and answers; pre-validation refuses the silent recordings;
 * - judges appointed by the admin who review everything to a consensus, approving most, rejecting
 *   some, asking for one revision; one split between five judges, escalated and decided by the
 *   admin; one rejection appealed and overturned;
 * - rewards and judge fees paid, XP, levels and badges earned, two withdrawals processed, a
 *   dataset bundle downloaded.
 * Each run adds new people and companies (fresh emails), so a second run breaks nothing.
 *
 *   npm run demo [-- --gateway http://127.0.0.1:8080 --contributors 50
 *                    --admin-email you@example.com --admin-password '...']
 *
 * The admin's credentials also come from ADMIN_EMAIL / ADMIN_PASSWORD (those `npm start` was given).
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gatewayClient } from '../../../e2e/client.ts';
import { journeyActors, JOURNEY_PASSWORD, type Session } from '../../../e2e/journey/actors.ts';
import { photo, reviewType, workContent, writing, type WorkKind } from '../../../e2e/journey/work.ts';
import { bundleContents } from '../../../e2e/journey/zip.ts';
import type { Platform } from '../../../e2e/platform.ts';

const REWARD = 800;
const JUDGE_FEE = 20;
const XP = 150;
const WITHDRAWAL = 600;
/** Three who review everything, five more for the split. */
const JUDGES = 8;
/** The mixed work each contributor takes, in turn; the golden task comes last (it decides at once). */
const MIXED: readonly WorkKind[] = ['photo', 'labels', 'writing', 'meaning', 'comparison'];
const MIXED_TERMS = { reward: 200, judgeFee: JUDGE_FEE, xp: 30 };
/** Second languages for the profiles, in turn (every contributor speaks English, the tasks' language). */
const SECOND_LANGUAGES = ['yo', 'ha', 'ig', 'fr', 'pcm'];
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
    /** Some steps are known only on the way (how many reviews QC offers): the bar grows. */
    plan(more: number) {
      total += more;
    },
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
  const started = Date.now();
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
  const call = (...args: Parameters<typeof client.call>) => client.call(...args);
  const statusOf = (body: unknown) => (body as { submission?: { status?: string } }).submission?.status;
  const actors = journeyActors(client, () => opts.gateway);
  const admin: Session = {
    ...(await client.logIn(opts.adminEmail, opts.adminPassword)),
    email: opts.adminEmail,
  };

  const n = opts.contributors;
  const silentEvery = 10;
  // The last contributor hands in after everything else is judged: their work is the split.
  const regular = n - 1;
  const silent = (i: number) => i % silentEvery === silentEvery - 1;
  const silentCount = Array.from({ length: regular }, (_, i) => i).filter(silent).length;
  const invitedWriters = Math.min(3, n);
  const bar = progress(
    2 * 5 + // the companies
      n + // contributors
      JUDGES +
      2 * n + // mixed work
      regular + // recordings
      1 + // the recording that will need a revision
      invitedWriters +
      n + // golden answers
      1 + // the revision approved
      1 +
      5 +
      1 + // the split: handed in, five votes, the admin's decision
      1 + // the appeal
      2 + // withdrawals
      1, // the bundle
  );

  // Companies: a viewer, an API key, a recording campaign and a campaign of every other kind.
  const budget = Math.ceil(n / 2) * (REWARD + 5 * JUDGE_FEE) + 5_000;
  // Each claim reserves its reward and the most judges' fees: two pieces and a golden answer each.
  const mixedBudget = Math.ceil(n / 2) * 3 * (MIXED_TERMS.reward + 5 * JUDGE_FEE) + 5_000;
  const privateBudget = invitedWriters * (MIXED_TERMS.reward + 5 * JUDGE_FEE) + 1_000;
  interface Company {
    label: string;
    manager: Session;
    viewer: Session;
    companyId: string;
    taskId: string;
    mixedId: string;
    tasks: Record<WorkKind, string>;
  }
  const companies: Company[] = [];
  for (const label of ['acme', 'globex']) {
    const manager = await actors.signUp('company', `${label}-manager`);
    const companyId = await actors.fundedCompany(manager, admin, (budget + mixedBudget + privateBudget) * 2);
    bar.step(`${label}: manager signed up, company funded`);
    const viewer = await actors.signUp('company', `${label}-viewer`);
    await actors.addMember(manager, companyId, viewer, 'viewer');
    bar.step(`${label}: a viewer joined by invitation`);
    const keyToken = await actors.apiKeyToken(manager, companyId, ['campaigns:read', 'submissions:read']);
    const campaignId = await actors.activeCampaign(manager, companyId, budget, n);
    const byKey = await client.waitFor('tasks never admitted the API key', 30_000, async () => {
      const reply = await call('GET', `/api/v1/campaigns/${campaignId}`, { token: keyToken });
      return reply.status === 200 ? true : undefined;
    });
    if (!byKey) throw new DemoError('the API key could not read its campaign');
    bar.step(`${label}: recording campaign active, read with an API key`);
    const taskId = await actors.audioTask(manager, campaignId, {
      reward: REWARD,
      judgeFee: JUDGE_FEE,
      xp: XP,
      maxSubmissions: Math.ceil(n / 2) + 2,
    });
    bar.step(`${label}: recording task published`);
    const mixedId = await actors.activeCampaign(manager, companyId, mixedBudget, 3 * n, {
      name: `${label} mixed work`,
      description: 'Photos, labels, writing, meaning, comparisons',
    });
    const tasks = {} as Record<WorkKind, string>;
    for (const kind of [...MIXED, 'golden'] as const) {
      tasks[kind] = await actors.publishTask(manager, mixedId, workContent[kind], {
        ...MIXED_TERMS,
        maxSubmissions: n + 1,
      });
    }
    bar.step(`${label}: mixed campaign active, 6 tasks published (one golden)`);
    companies.push({ label, manager, viewer, companyId, taskId, mixedId, tasks });
  }
  const acme = companies[0]!;

  const contributors: Session[] = [];
  for (let i = 0; i < n; i++) {
    const second = SECOND_LANGUAGES[i % SECOND_LANGUAGES.length]!;
    contributors.push(await actors.signUp('contributor', `contributor-${i + 1}`, [second]));
    bar.step(`contributor ${i + 1} signed up`);
  }
  const judges: Session[] = [];
  for (let i = 0; i < JUDGES; i++) {
    const judge = await actors.signUp('contributor', `judge-${i + 1}`);
    await actors.appointJudge(admin, judge);
    judges.push(judge);
    bar.step(`judge ${i + 1} appointed`);
  }

  // Mixed work: each contributor two kinds, in turn, for their company; every kind at least once.
  /** The work judges review besides recordings, with the review type each is leased under. */
  const typed: { id: string; type: ReturnType<typeof reviewType> }[] = [];
  for (let i = 0; i < n; i++) {
    const company = companies[i % companies.length]!;
    for (const kind of [MIXED[(2 * i) % MIXED.length]!, MIXED[(2 * i + 1) % MIXED.length]!]) {
      const contributor = contributors[i]!;
      const id = await actors.handIn(contributor, company.tasks[kind], () => mixedPayload(kind, contributor));
      typed.push({ id, type: reviewType(kind) });
      bar.step(`contributor ${i + 1}: ${kind} handed in`);
    }
  }

  // Recordings: every tenth one silent (pre-validation refuses it); the judges reject the 2nd,
  // 9th, 16th… in review. The first contributor also records for the other company: that one
  // will be sent back for a revision.
  const rejected = new Set<string>();
  const approved: Session[] = [];
  const inReviewIds: string[] = [];
  const rejectedBy = new Map<string, Session>();
  for (const [i, contributor] of contributors.slice(0, regular).entries()) {
    const company = companies[i % companies.length]!;
    const id = await actors.handInRecording(contributor, company.taskId, {
      silent: silent(i),
      expect: silent(i) ? 'rejected' : 'in_review',
    });
    if (!silent(i)) {
      if (inReviewIds.length % 7 === 1) {
        rejected.add(id);
        rejectedBy.set(id, contributor);
      } else approved.push(contributor);
      inReviewIds.push(id);
    }
    bar.step(`recording ${i + 1}${silent(i) ? ' (silent: refused at screening)' : ''}`);
  }
  const reviser = contributors[0]!;
  const revisionId = await actors.handInRecording(reviser, companies[1]!.taskId);
  bar.step('a recording that will need a revision');

  // The private campaign: only invited writers may claim its task.
  const privateId = await actors.activeCampaign(acme.manager, acme.companyId, privateBudget, invitedWriters, {
    name: 'acme invited writers',
    description: 'Writing by invitation',
    isPrivate: true,
  });
  const privateTask = await actors.publishTask(acme.manager, privateId, workContent['private-writing'], {
    ...MIXED_TERMS,
    maxSubmissions: invitedWriters,
  });
  const writers = contributors.slice(0, invitedWriters);
  await actors.inviteToCampaign(acme.manager, privateId, writers);
  const privateIds: string[] = [];
  for (const [k, writer] of writers.entries()) {
    privateIds.push(await actors.handIn(writer, privateTask, async () => ({ text: writing() })));
    bar.step(`invited writer ${k + 1} handed in`);
  }

  // Golden answers last (a wrong one lowers the contributor's trust at once): every fourth is wrong.
  let goldenRight = 0;
  let goldenWrong = 0;
  for (let i = 0; i < n; i++) {
    const company = companies[i % companies.length]!;
    // Not the splitter: a wrong golden answer drops a newcomer below the tasks' minimum trust, and they claim later.
    const wrong = i % 4 === 1 && i < regular;
    await actors.handIn(
      contributors[i]!,
      company.tasks.golden,
      async () => ({ option: wrong ? 'no' : 'yes' }),
      wrong ? 'rejected' : 'approved',
    );
    if (wrong) goldenWrong += 1;
    else goldenRight += 1;
    bar.step(`golden answer ${i + 1} ${wrong ? 'wrong: rejected at once' : 'right: approved at once'}`);
  }

  // Three judges review everything to a consensus: recordings (one sent back for a revision),
  // then the mixed and private work, type by type, all approved.
  const recordingsToJudge = [...inReviewIds, revisionId];
  const verdictFor = (id: string) =>
    id === revisionId ? 'revision' : rejected.has(id) ? 'reject' : 'approve';
  typed.push(...privateIds.map((id) => ({ id, type: 'text' as const })));
  bar.plan(3 * (recordingsToJudge.length + typed.length));
  for (const [j, judge] of judges.slice(0, 3).entries()) {
    let done = 0;
    const total = recordingsToJudge.length + typed.length;
    const tick = () => bar.step(`judge ${j + 1}: review ${++done} of ${total}`);
    await actors.judgeReviews(judge, recordingsToJudge, verdictFor, tick);
    for (const type of [...new Set(typed.map((t) => t.type))]) {
      const ids = typed.filter((t) => t.type === type).map((t) => t.id);
      await actors.judgeReviews(judge, ids, () => 'approve', tick, type);
    }
  }

  // The revision: handed in again under the same claim, and approved.
  await client.waitFor('review never asked for a revision', 60_000, async () => {
    const reply = await call('GET', `/api/v1/submissions/${revisionId}`, { token: reviser.token });
    return statusOf(reply.body) === 'revision_requested' ? true : undefined;
  });
  await actors.handInRevision(reviser, revisionId);
  for (const judge of judges.slice(0, 3)) await actors.reviewOnce(judge, revisionId, 'approve');
  bar.step('the revision handed in and approved');

  // The split: the last hand-in, five judges who cannot agree, the admin decides. Judges new to the
  // platform: the three above have a record by now, and QC weighs their votes by it (two of them
  // agreeing would be a consensus, not a split).
  const splitter = contributors[regular]!;
  const splitId = await actors.handInRecording(splitter, acme.taskId);
  bar.step('the split handed in');
  for (const [index, verdict] of (['approve', 'reject', 'approve', 'reject', 'approve'] as const).entries()) {
    await actors.reviewOnce(judges[3 + index]!, splitId, verdict);
    bar.step(`split: judge ${index + 1} voted ${verdict}`);
  }
  await actors.decideEscalation(admin, splitId, 'approve');
  bar.step('split decided by the admin');

  // An appeal: the first rejected recording's contributor appeals; the admin overturns it.
  const [appealedId, appellant] = [...rejectedBy.entries()][0] ?? [];
  if (appealedId && appellant) {
    await client.waitFor('the rejection never landed', 60_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${appealedId}`, { token: appellant.token });
      return statusOf(reply.body) === 'rejected' ? true : undefined;
    });
    await actors.appealDecided(appellant, admin, appealedId, 'approve');
  }
  bar.step(appealedId ? 'an appeal overturned by the admin' : 'no rejection to appeal');

  // Two approved contributors withdraw part of their reward once it arrived.
  const withdrawers = approved.slice(0, 2);
  for (const [k, contributor] of withdrawers.entries()) {
    await client.waitFor('a reward never arrived', 60_000, async () => {
      const reply = await call('GET', '/api/v1/wallet', { token: contributor.token });
      const wallet = reply.body as { available?: { amount: number } };
      return (wallet.available?.amount ?? 0) >= REWARD ? true : undefined;
    });
    await actors.withdraw(contributor, admin, WITHDRAWAL);
    bar.step(`withdrawal ${k + 1} paid out`);
  }

  // The first company downloads its mixed campaign's approved work as a dataset bundle.
  const zip = await actors.downloadBundle(acme.manager, acme.mixedId);
  const bundle = bundleContents(zip);
  const bundlePath = path.join(os.tmpdir(), `tessera-demo-bundle-${acme.mixedId}.zip`);
  await writeFile(bundlePath, zip);
  bar.step('a dataset bundle downloaded');
  bar.end();

  type Money = { amount: number; currency: string };
  const summary = (await call('GET', '/api/v1/admin/ledger/summary', { token: admin.token })).body as {
    user_liability?: Money;
    company_credits?: Money;
    campaign_escrow?: Money;
    revenue?: Money;
    balanced?: boolean;
  };
  const dashboard = (await call('GET', '/api/v1/admin/dashboard', { token: admin.token })).body as {
    pending_reviews?: number | null;
    escalations?: number | null;
  };
  const progressOf = (await call('GET', '/api/v1/me/progress', { token: reviser.token })).body as {
    xp?: number;
    level?: number;
    badges?: { code: string }[];
  };
  const money = (m: Money | undefined) => (m ? `${(m.amount / 100).toFixed(2)} ${m.currency}` : 'n/a');
  const reviewedRecordings = inReviewIds.length + 2;
  const lines = [
    '',
    'Demo data created through the gateway:',
    `  2 companies (${companies.map((c) => c.companyId).join(', ')}), each with a viewer, an API key,`,
    `  a recording campaign and a campaign of photos, labels, writing, meaning, comparisons and a golden task;`,
    `  a private campaign with ${invitedWriters} invited writers`,
    `  ${n} contributors, ${JUDGES} judges; ${reviewedRecordings} recordings reviewed, ${silentCount} refused at screening,`,
    `  ${rejected.size} rejected by the judges, ${typed.length} pieces of other work approved, golden answers ${goldenRight} right / ${goldenWrong} wrong,`,
    `  1 revision approved, 1 split escalated and approved by the admin, ${appealedId ? 1 : 0} appeal overturned, ${withdrawers.length} withdrawals paid out`,
    `  the reviser now has ${progressOf.xp ?? '?'} XP, level ${progressOf.level ?? '?'}, badges: ${(progressOf.badges ?? []).map((b) => b.code).join(', ') || 'none'}`,
    `  dataset bundle: ${bundle.submissionIds.length} submissions, ${bundle.media.length} media files, saved to ${bundlePath}`,
    '',
    `Logins to try (password for all: ${JOURNEY_PASSWORD}):`,
    `  company manager  ${acme.manager.email}`,
    `  company viewer   ${acme.viewer.email}`,
    `  contributor      ${reviser.email}`,
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
    `Done in ${Math.round((Date.now() - started) / 1000)} s. Open ${opts.gateway}/docs for the API.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  /** What a contributor hands in for a kind of mixed work. */
  async function mixedPayload(kind: WorkKind, contributor: Session): Promise<Record<string, unknown>> {
    switch (kind) {
      case 'photo':
        return { media_id: await actors.upload(contributor, await photo(), 'image/png', 'sign.png') };
      case 'labels':
        return { labels: ['dog'] };
      case 'writing':
      case 'private-writing':
        return { text: writing() };
      case 'meaning':
        return { option: 'good luck' };
      case 'comparison':
        return { preferred: 'a', ratings: { helpfulness: 6 }, rationale: 'A explains the water cycle.' };
      case 'golden':
        return { option: 'yes' };
    }
  }
}

main().catch((error: unknown) => {
  if (error instanceof DemoError) process.stderr.write(`demo: ${error.message}\n`);
  else
    process.stderr.write(
      `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
