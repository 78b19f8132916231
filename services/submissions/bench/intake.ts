// Intake throughput: hand-ins through the app (HTTP inject: routing, auth, validation, the claim
// read model, one transaction with the outbox), concurrent clients, then pre-validation of the
// queue by the real worker. Prints hand-ins/s, latency and memory.
//   pnpm --filter @tessera/submissions bench:intake      (SUBMISSIONS=2000 CLIENTS=16)
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveNats, resolvePostgres } from '@tessera/devstack';
import { createLogger, createTokenVerifier } from '@tessera/service-kit';
import { createTestIssuer } from '@tessera/service-kit/testing';
import { submissionsConfigSchema } from '../src/config.ts';
import { defaultFraudRules } from '../src/fraud/decide.ts';
import { screenWaiting } from '../src/prevalidation/handle.ts';
import { sentences } from '../src/prevalidation/testing/fixtures.ts';
import { startSubmissions, submissionsWorkers } from '../src/service.ts';
import { percentile } from '@tessera/service-kit/testing';

const SUBMISSIONS = Number(process.env.SUBMISSIONS ?? 2_000);
const CLIENTS = Number(process.env.CLIENTS ?? 16);

const postgres = await resolvePostgres({ containers: false });
const nats = await resolveNats({ containers: false });
const url = new URL(postgres.url);
url.pathname = `/bench_submissions_${Date.now()}`;
const mediaDir = await mkdtemp(path.join(tmpdir(), 'bench-media-'));
const issuer = await createTestIssuer();
const config = submissionsConfigSchema.parse({
  SERVICE_NAME: 'submissions',
  NODE_ENV: 'test',
  PORT: 0,
  LOG_LEVEL: 'warn',
  DATABASE_URL: url.toString(),
  NATS_URL: nats.url,
  NATS_PREFIX: `bench${Date.now()}`,
  RATE_LIMIT_MAX: 10_000_000,
  MEDIA_DIR: mediaDir,
});
const service = await startSubmissions(config, {
  logger: createLogger({ name: 'submissions', level: 'warn', pretty: false }),
  tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
  workers: { [submissionsWorkers.prevalidation]: false },
});
const { db } = service;

// One text task per campaign of 100 claims; every claim its own contributor.
const claims: { id: string; contributor: string; token: string }[] = [];
const now = new Date();
let taskId = '';
for (let i = 0; i < SUBMISSIONS; i++) {
  if (i % 100 === 0) {
    const campaign = randomUUID();
    taskId = campaign;
    await db
      .insertInto('task_views')
      .values({
        id: campaign,
        campaign_id: campaign,
        company_id: randomUUID(),
        task_type: 'text',
        input: JSON.stringify({ prompt: 'Describe', language: 'en', min_chars: 20, max_chars: 5000 }),
        judges_required: 3,
        is_golden: false,
        changed_at: now,
      })
      .execute();
  }
  const contributor = randomUUID();
  const id = randomUUID();
  await db
    .insertInto('claims')
    .values({
      id,
      task_id: taskId,
      campaign_id: taskId,
      company_id: randomUUID(),
      contributor_id: contributor,
      reward_amount: 150,
      currency: 'USD',
      xp_reward: 10,
      expires_at: new Date(Date.now() + 3_600_000),
      status: 'active',
      changed_at: now,
    })
    .execute();
  claims.push({ id, contributor, token: await issuer.token({ sub: contributor, role: 'contributor' }) });
}

const texts = Object.values(sentences);
const latencies: number[] = [];
let failures = 0;
let next = 0;
const heapBefore = process.memoryUsage();
const started = performance.now();
await Promise.all(
  Array.from({ length: CLIENTS }, async () => {
    for (let i = next++; i < claims.length; i = next++) {
      const claim = claims[i]!;
      const t0 = performance.now();
      const response = await service.app.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        headers: { authorization: `Bearer ${claim.token}` },
        payload: {
          assignment_id: claim.id,
          payload: { text: `${texts[i % texts.length]} (${i})` },
          time_spent_seconds: 120,
        },
      });
      latencies.push(performance.now() - t0);
      if (response.statusCode !== 202) failures += 1;
    }
  }),
);
const intakeSeconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => percentile(latencies, p / 100).toFixed(1);
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const after = process.memoryUsage();
console.log(
  `intake: ${SUBMISSIONS} text hand-ins by ${CLIENTS} clients in ${intakeSeconds.toFixed(2)} s = ` +
    `${(SUBMISSIONS / intakeSeconds).toFixed(0)} hand-ins/s (p50 ${pct(50)} ms, p99 ${pct(99)} ms, ${failures} failed); ` +
    `rss ${mb(after.rss)}, heap ${mb(heapBefore.heapUsed)} → ${mb(after.heapUsed)}`,
);

const screenStarted = performance.now();
let screened = 0;
for (;;) {
  const done = await screenWaiting({
    db,
    storage: service.resources.storage,
    clock: () => new Date(),
    logger: service.logger,
    fraud: defaultFraudRules,
    minImageSide: { width: 640, height: 480 },
  });
  screened += done;
  if (done === 0) break;
}
const screenSeconds = (performance.now() - screenStarted) / 1000;
console.log(
  `pre-validation (one worker, text: gibberish, language, duplicates, fraud signals): ${screened} in ` +
    `${screenSeconds.toFixed(2)} s = ${(screened / screenSeconds).toFixed(0)} /s; rss ${mb(process.memoryUsage().rss)}`,
);

await service.stop();
await rm(mediaDir, { recursive: true, force: true });
await nats.stop();
await postgres.stop();
