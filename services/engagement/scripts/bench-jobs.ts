/**
 * Benchmark of engagement's two bulk jobs, each called the way its worker calls it:
 *   decay     `decayXp` over USERS users inactive for 30 days (standings written straight into the
 *             table, each at a level that matches its XP), then again the same day (nothing to do);
 *   webhooks  `sendDueDeliveries` draining DELIVERIES queued deliveries (approvals in a campaign of
 *             a company with one subscribed webhook) to a receiver on loopback that answers 200.
 * Each checks its result (every user decayed once, every delivery delivered and received) and
 * prints its time and rate.
 *
 *   pnpm --filter @tessera/engagement bench:jobs      (USERS=100000 DELIVERIES=2000)
 *
 * Postgres and NATS come from DATABASE_URL and NATS_URL, else the embedded binaries and a local
 * nats-server. The service is the one the tests start (testing/harness.ts), its workers off.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolveNats, resolvePostgres } from '@tessera/devstack';
import { createLogger } from '@tessera/service-kit';
import { sql } from 'kysely';
import { decayXp, levelForXp, XP_DECAY_JOB } from '../src/standing/index.ts';
import { approvalOf, startTestEngagement } from '../src/testing/harness.ts';
import { sendDueDeliveries, WEBHOOK_SENDER, webhookAgent, webhookSettings } from '../src/webhooks/index.ts';

const USERS = Number(process.env.USERS ?? 100_000);
const DELIVERIES = Number(process.env.DELIVERIES ?? 2_000);
const DAY_MS = 86_400_000;

const log = (line: string) => process.stdout.write(`${line}\n`);
const rate = (count: number, ms: number) => Math.round(count / (ms / 1000)).toLocaleString('en-US');

const postgres = await resolvePostgres({ containers: false });
const nats = await resolveNats({ containers: false });
const t = await startTestEngagement(
  { ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: 'true' },
  {
    servers: { postgresUrl: postgres.url, natsUrl: nats.url },
    workers: { [WEBHOOK_SENDER]: false, [XP_DECAY_JOB]: false },
  },
);
const { db } = t.service;

async function benchDecay(): Promise<void> {
  const now = new Date();
  const lastActive = new Date(now.getTime() - 30 * DAY_MS);
  const ids = Array.from({ length: USERS }, () => randomUUID());
  const xps = ids.map((_, i) => 100 + ((i * 7919) % 20_000));
  for (let from = 0; from < USERS; from += 10_000) {
    const slice = (values: unknown[]) => values.slice(from, from + 10_000);
    await sql`
      insert into standings (user_id, xp, level, updated_at, last_active_at)
      select id, xp, level, ${lastActive}, ${lastActive}
      from unnest(${slice(ids)}::uuid[], ${slice(xps)}::bigint[], ${slice(xps.map(levelForXp))}::int[])
        as u(id, xp, level)`.execute(db);
  }

  const first = performance.now();
  const decayed = await decayXp(t.service, now);
  const firstMs = performance.now() - first;
  const again = performance.now();
  const decayedAgain = await decayXp(t.service, new Date(now.getTime() + 1_000));
  const againMs = performance.now() - again;
  if (decayed !== USERS || decayedAgain !== 0) {
    throw new Error(
      `decay: ${decayed} decayed, then ${decayedAgain} again the same day; expected ${USERS}, 0`,
    );
  }
  const entries = await db
    .selectFrom('xp_entries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('source', '=', 'decay')
    .executeTakeFirstOrThrow();
  if (Number(entries.n) !== USERS) throw new Error(`decay: ${entries.n} XP entries for ${USERS} users`);
  log(
    `decay of ${USERS.toLocaleString('en-US')} inactive users (batches of ${t.config.ENGAGEMENT_DECAY_BATCH_SIZE}): ` +
      `${(firstMs / 1000).toFixed(2)} s (${rate(USERS, firstMs)} users/s); again the same day: ` +
      `${(againMs / 1000).toFixed(2)} s`,
  );
}

async function benchWebhooks(): Promise<void> {
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  const companyId = randomUUID();
  const campaignId = randomUUID();
  await t.emit('tasks.campaign.created.v1', {
    campaign_id: campaignId,
    company_id: companyId,
    budget: { amount: 100_000_000, currency: 'USD' },
    target_count: null,
    start_at: null,
    end_at: null,
    is_private: false,
  });
  const admin = await t.token({ sub: randomUUID(), role: 'admin' });
  const registered = await t.inject({
    method: 'POST',
    url: `/api/v1/companies/${companyId}/webhooks`,
    token: admin,
    body: { url: `http://127.0.0.1:${port}/hooks`, events: ['submission.approved'] },
  });
  if (registered.status !== 201) throw new Error(`webhook registration answered ${registered.status}`);
  const webhookId = (registered.body as { webhook: { id: string } }).webhook.id;

  for (let from = 0; from < DELIVERIES; from += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, DELIVERIES - from) }, () =>
        t.emit('submissions.submission.approved.v1', approvalOf(randomUUID(), { campaign_id: campaignId })),
      ),
    );
  }

  const settings = webhookSettings(t.config);
  const agent = webhookAgent(settings);
  const logger = createLogger({ name: 'bench-jobs', level: 'silent', pretty: false });
  const sendStart = performance.now();
  let sent = 0;
  for (let run = 0; sent < DELIVERIES && run < DELIVERIES; run++) {
    sent += await sendDueDeliveries(t.service, settings, agent, logger);
  }
  const sendMs = performance.now() - sendStart;
  await agent.close();
  await new Promise((resolve) => receiver.close(resolve));

  const statuses = await db
    .selectFrom('webhook_deliveries')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('webhook_id', '=', webhookId)
    .groupBy('status')
    .execute();
  const delivered = Number(statuses.find((row) => row.status === 'delivered')?.n ?? 0);
  if (delivered !== DELIVERIES || received !== DELIVERIES) {
    throw new Error(
      `webhooks: ${JSON.stringify(statuses)}, ${received} received; expected ${DELIVERIES} delivered and received`,
    );
  }
  log(
    `webhooks: ${DELIVERIES.toLocaleString('en-US')} queued deliveries sent to a loopback receiver in ` +
      `${(sendMs / 1000).toFixed(2)} s (${rate(DELIVERIES, sendMs)} deliveries/s, one sender, batches of 20)`,
  );
}

try {
  await benchDecay();
  await benchWebhooks();
  log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await t.stop();
  await nats.stop();
  await postgres.stop();
}
