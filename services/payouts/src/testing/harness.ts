// Test support: a real payouts service (Postgres, NATS) on its own database and subject prefix, a
// client to drive it, and fixtures that announce users as identity and engagement would.
import { randomUUID } from 'node:crypto';
import { createLogger, createTokenVerifier, type StartOptions } from '@tessera/service-kit';
import {
  createTestIssuer,
  foreignEvent,
  type ServiceTestClient,
  serviceTestClient,
  testServiceConfig,
} from '@tessera/service-kit/testing';
import { type PayoutsConfig, payoutsConfigSchema } from '../config.ts';
import { consumerNames } from '../messaging/consumers.ts';
import { type RunningPayouts, startPayouts } from '../service.ts';

export interface TestPayouts extends ServiceTestClient {
  service: RunningPayouts;
  config: PayoutsConfig;
  fixtures: Fixtures;
  /** Stops the service and starts it again on the same database and bus (a crash and restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestPayouts(
  overrides: Record<string, unknown> = {},
  options: Pick<StartOptions, 'workers' | 'clock'> & {
    provider?: RunningPayouts['resources']['provider'];
  } = {},
): Promise<TestPayouts> {
  const issuer = await createTestIssuer();
  const test = await testServiceConfig('payouts');
  const config = payoutsConfigSchema.parse({
    ...test.config,
    PAYOUTS_JOB_INTERVAL_MS: 50,
    PAYOUTS_RETRY_BASE_MS: 20,
    ...overrides,
  });
  const start = async () => {
    const started = await startPayouts(config, {
      logger: createLogger({ name: 'payouts', level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false }),
      tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
      relayPollIntervalMs: 50,
      consumerOverrides: { backoffMs: [50, 100, 200], ackWaitMs: 2_000, maxDeliver: 8 },
      ...(options.workers ? { workers: options.workers } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    if (options.provider) started.resources.provider = options.provider;
    return started;
  };
  let service = await start();
  let client = serviceTestClient(service, 'payouts', issuer);
  const harness: TestPayouts = {
    ...client,
    service,
    config,
    // The current client: a restart replaces it.
    fixtures: fixtures(() => client),
    async restart() {
      await service.stop();
      service = await start();
      client = serviceTestClient(service, 'payouts', issuer);
      Object.assign(harness, client, { service });
    },
    async stop() {
      await service.stop();
      await test.drop();
    },
  };
  return harness;
}

export interface TestUser {
  id: string;
  token: string;
}

export interface Fixtures {
  /** A contributor identity announced, with a verified email unless told otherwise. */
  contributor(options?: { verified?: boolean; trust?: number }): Promise<TestUser>;
}

function fixtures(current: () => ServiceTestClient): Fixtures {
  return {
    async contributor(options = {}) {
      const client = current();
      const id = randomUUID();
      await client.deliver(
        consumerNames.identity,
        foreignEvent('identity.user.registered.v1', {
          user_id: id,
          role: 'contributor',
          country: 'NG',
          languages: ['en'],
        }),
      );
      if (options.verified !== false)
        await client.deliver(
          consumerNames.identity,
          foreignEvent('identity.user.email-verified.v1', { user_id: id }),
        );
      if (options.trust !== undefined)
        await client.deliver(
          consumerNames.engagement,
          foreignEvent('engagement.contributor.trust-changed.v1', {
            user_id: id,
            trust_score: options.trust,
          }),
        );
      return { id, token: await client.token({ sub: id, role: 'contributor' }) };
    },
  };
}
