/**
 * Login and token verification throughput of identity on this machine.
 *
 *   pnpm --filter @tessera/identity bench:login     (CLIENTS=8 LOGINS=400 VERIFICATIONS=20000)
 *
 * Starts identity over HTTP on a fresh database (production argon2id settings: 19 MiB, 2 passes),
 * signs up one account per client, then:
 *  - logins: CLIENTS concurrent clients, each logging its own account in, LOGINS in all;
 *  - verification: the service kit's verifier (as every other service runs it, JWKS fetched over
 *    HTTP) checking access tokens, one at a time and 16 at a time;
 *  - authenticated requests: GET /api/v1/users/me, which verifies and also checks the session.
 * Postgres and NATS come from DATABASE_URL / NATS_URL, else local binaries.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolveNats, resolvePostgres } from '@tessera/devstack';
import { createLogger, createTokenVerifier, startService } from '@tessera/service-kit';
import { percentile } from '@tessera/service-kit/testing';
import { Passwords } from '../src/auth/passwords.ts';
import { parseIdentityConfig } from '../src/config.ts';
import { identityDefinition } from '../src/service.ts';

const CLIENTS = Number(process.env.CLIENTS ?? 8);
const LOGINS = Number(process.env.LOGINS ?? 400);
const VERIFICATIONS = Number(process.env.VERIFICATIONS ?? 20_000);
const ME_REQUESTS = Number(process.env.ME_REQUESTS ?? 2_000);
const PASSWORD = 'bench-violet-harbour-lantern';

const postgres = await resolvePostgres({ containers: false });
const nats = await resolveNats({ containers: false });
const url = new URL(postgres.url);
url.pathname = `/bench_identity_${Date.now()}`;

const config = parseIdentityConfig({
  SERVICE_NAME: 'identity',
  NODE_ENV: 'test',
  PORT: 0,
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DATABASE_URL: url.toString(),
  NATS_URL: nats.url,
  NATS_PREFIX: `bench${Date.now()}`,
  RATE_LIMIT_MAX: 10_000_000,
  IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
});
const service = await startService(identityDefinition(), config, {
  listen: true,
  logger: createLogger({ name: 'identity', level: 'warn', pretty: false }),
});
const address = service.app.server.address();
if (!address || typeof address === 'string') throw new Error('identity is not listening');
const base = `http://127.0.0.1:${address.port}`;

async function post(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** The p-th percentile (0-100) of ascending `sorted`, in ms with one decimal. */
function msAt(sorted: number[], p: number): string {
  return percentile(sorted, p / 100).toFixed(1);
}

const emails = Array.from({ length: CLIENTS }, (_, i) => `bench-${i}-${Date.now()}@example.test`);
for (const email of emails) {
  const { status, json } = await post('/auth/signup', { email, password: PASSWORD, full_name: 'Bench' });
  if (status !== 201) throw new Error(`signup failed: ${JSON.stringify(json)}`);
}

// One argon2id verification alone, for scale.
const passwords = new Passwords({ memoryKib: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST });
const stored = await passwords.hash(PASSWORD);
const a0 = performance.now();
for (let i = 0; i < 10; i++) await passwords.verify(stored, PASSWORD);
const argon2Ms = (performance.now() - a0) / 10;

// Logins.
const latencies: number[] = [];
const tokens: string[] = [];
let started = 0;
let failures = 0;
const t0 = performance.now();
await Promise.all(
  emails.map(async (email) => {
    while (started < LOGINS) {
      started++;
      const begin = performance.now();
      const { status, json } = await post('/auth/login', { email, password: PASSWORD });
      latencies.push(performance.now() - begin);
      if (status === 200) tokens.push((json as { session: { access_token: string } }).session.access_token);
      else failures++;
    }
  }),
);
const loginSeconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);

// Verification with the kit's verifier, JWKS fetched from identity over HTTP.
const verifier = createTokenVerifier({
  jwksUrl: `${base}/.well-known/jwks.json`,
  issuer: config.JWT_ISSUER,
  audience: config.JWT_AUDIENCE,
});
await verifier.verify(tokens[0]!);
const v0 = performance.now();
for (let i = 0; i < VERIFICATIONS; i++) await verifier.verify(tokens[i % tokens.length]!);
const sequentialSeconds = (performance.now() - v0) / 1000;
let next = 0;
const v1 = performance.now();
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (next < VERIFICATIONS) await verifier.verify(tokens[next++ % tokens.length]!);
  }),
);
const concurrentSeconds = (performance.now() - v1) / 1000;

// Authenticated requests at identity (signature + session check + a user read).
let meNext = 0;
let meFailures = 0;
const m0 = performance.now();
await Promise.all(
  Array.from({ length: 16 }, async (_, c) => {
    while (meNext < ME_REQUESTS) {
      meNext++;
      const response = await fetch(`${base}/api/v1/users/me`, {
        headers: { authorization: `Bearer ${tokens[c % tokens.length]}` },
      });
      if (response.status !== 200) meFailures++;
      await response.arrayBuffer();
    }
  }),
);
const meSeconds = (performance.now() - m0) / 1000;

console.log(`postgres: ${postgres.source}, nats: ${nats.source}, node ${process.version}`);
console.log(
  `load average before the run ended: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `argon2id: ${config.ARGON2_MEMORY_KIB} KiB, ${config.ARGON2_TIME_COST} passes, 1 lane: ${argon2Ms.toFixed(1)} ms per verification alone`,
);
console.log(
  `logins: ${LOGINS} by ${CLIENTS} concurrent clients in ${loginSeconds.toFixed(2)} s = ${(LOGINS / loginSeconds).toFixed(1)} logins/s` +
    ` (p50 ${msAt(latencies, 50)} ms, p99 ${msAt(latencies, 99)} ms, ${failures} failed)`,
);
console.log(
  `token verification (kit verifier, EdDSA): ${Math.round(VERIFICATIONS / sequentialSeconds)} verifications/s one at a time,` +
    ` ${Math.round(VERIFICATIONS / concurrentSeconds)} verifications/s 16 in flight`,
);
console.log(
  `GET /api/v1/users/me (verify + session check + read), 16 clients: ${Math.round(ME_REQUESTS / meSeconds)} requests/s (${meFailures} failed)`,
);

await service.stop();
await nats.stop();
await postgres.stop();
