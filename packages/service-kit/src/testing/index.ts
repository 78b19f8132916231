import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import type { ServiceConfig } from '../config.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import type { Role } from '../http/auth.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    natsUrl: string;
  }
}

/** A short random token, safe in database names and NATS subjects. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** A subject prefix of its own, so test files sharing a NATS server never see each other's events. */
export function testPrefix(): string {
  return `t${uniqueSuffix()}`;
}

/**
 * The Postgres and NATS servers a test runs against. Inside vitest they come from the global
 * setup (`inject`); a script run outside vitest (a benchmark) passes its own.
 */
export interface TestServers {
  postgresUrl?: string;
  natsUrl?: string;
}

/** A fresh database on the harness's Postgres (or `servers.postgresUrl`); `drop()` removes it. */
export async function createTestDatabase(
  label = 'test',
  servers: TestServers = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = servers.postgresUrl ?? inject('postgresUrl');
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${uniqueSuffix()}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database "${name}"`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: admin });
      await dropper.connect();
      await dropper.query(`drop database if exists "${name}" with (force)`);
      await dropper.end();
    },
  };
}

/** A complete service configuration on its own database and subject prefix. */
export async function testServiceConfig(
  name: string,
  overrides: Partial<ServiceConfig> = {},
  servers: TestServers = {},
): Promise<{ config: ServiceConfig; drop(): Promise<void> }> {
  const database = await createTestDatabase(name.replace(/-/g, '_'), servers);
  return {
    config: {
      SERVICE_NAME: name,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: 0,
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      NATS_URL: servers.natsUrl ?? inject('natsUrl'),
      NATS_PREFIX: testPrefix(),
      NATS_STREAM_REPLICAS: 1,
      JWT_ISSUER: 'tessera-identity',
      JWT_AUDIENCE: 'tessera',
      RATE_LIMIT_MAX: 10_000,
      // Load shedding has its own test (http/app.unit.spec.ts); elsewhere a stalled worker must not
      // turn requests into 503s (an identity test failed so on a loaded machine).
      OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: 60_000,
      TRUST_PROXY: 'loopback',
      KIT_PRUNE_INTERVAL_MS: 3_600_000,
      OUTBOX_RETENTION_HOURS: 7 * 24,
      INBOX_RETENTION_HOURS: 90 * 24,
      IDEMPOTENCY_KEY_RETENTION_HOURS: 24,
      ...overrides,
    },
    drop: () => database.drop(),
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}

/** Resolves once `consumer` has committed its handling of `eventId` (its inbox row exists). */
export async function waitForHandled<DB extends KitTables>(
  db: Kysely<DB>,
  consumer: string,
  eventId: string,
  timeoutMs = 10_000,
): Promise<void> {
  const kit = db as unknown as Kysely<KitTables>;
  await waitFor(
    () =>
      kit
        .selectFrom('inbox')
        .select('event_id')
        .where('consumer', '=', consumer)
        .where('event_id', '=', eventId)
        .executeTakeFirst(),
    { timeoutMs, what: `${consumer} to handle ${eventId}` },
  );
}

/** Issues access tokens the way identity does, for services tested without identity running. */
export async function createTestIssuer(options: { issuer?: string; audience?: string } = {}) {
  const issuer = options.issuer ?? 'tessera-identity';
  const audience = options.audience ?? 'tessera';
  const kid = `test-${uniqueSuffix()}`;
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  const jwks: JSONWebKeySet = { keys: [jwk] };
  return {
    issuer,
    audience,
    jwks,
    privateKey,
    async token(claims: { sub?: string; role?: Role; expiresIn?: string | number } = {}): Promise<string> {
      return new SignJWT({ role: claims.role ?? 'contributor' })
        .setProtectedHeader({ alg: 'EdDSA', kid })
        .setSubject(claims.sub ?? randomUUID())
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(claims.expiresIn ?? '15m')
        .sign(privateKey);
    },
  };
}

export * from './stream.ts';
export * from './process.ts';
export * from './client.ts';
export * from './decider.ts';
export * from './locks.ts';
export * from './faults.ts';
export { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
export * from './figures.ts';
