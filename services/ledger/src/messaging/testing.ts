// Test support: a real ledger (Postgres, NATS, engine, projector) on its own database and subject
// prefix, and helpers to publish other services' events and wait for what the ledger does.
import type { EventData, EventType, TesseraEvent } from '@tessera/contracts';
import { createLogger, createTokenVerifier } from '@tessera/service-kit';
import {
  createTestIssuer,
  foreignEvent,
  type ServiceTestClient,
  serviceTestClient,
  testServiceConfig,
  waitFor,
} from '@tessera/service-kit/testing';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type LedgerConfig, ledgerConfigSchema } from '../config.ts';
import { accountIds } from '../domain/accounts.ts';
import type { ProjectionTables } from '../projections/schema.ts';
import { PROJECTOR_NAME } from '../projections/schema.ts';
import { type LedgerStartOptions, type RunningLedger, startLedger } from '../service.ts';

export interface TestLedger extends ServiceTestClient {
  ledger: RunningLedger;
  config: LedgerConfig;
  /** Waits until exactly `count` events of `type` caused by `causeId` are on the ledger stream. */
  outcomes<T extends EventType>(type: T, causeId: string, count?: number): Promise<TesseraEvent<T>[]>;
  /** Waits until the projector has applied everything in the store. */
  projected(): Promise<void>;
  /** Credits a company from the world, straight through the engine (setup). */
  fundCompany(companyId: string, amount: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestLedger(
  overrides: Partial<LedgerConfig> = {},
  options: LedgerStartOptions = {},
): Promise<TestLedger> {
  const issuer = await createTestIssuer();
  const test = await testServiceConfig('ledger');
  const config = ledgerConfigSchema.parse({
    ...test.config,
    LEDGER_PROJECTION_POLL_MS: 50,
    LEDGER_EXPIRY_INTERVAL_MS: 200,
    ...overrides,
  });
  const ledger = await startLedger(config, {
    logger: createLogger({ name: 'ledger', level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false }),
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
    relayPollIntervalMs: 50,
    consumerOverrides: { backoffMs: [50, 100, 200], ackWaitMs: 2_000, maxDeliver: 8 },
    ...options,
  });
  const {
    db,
    resources: { store },
  } = ledger;
  const client = serviceTestClient(ledger, 'ledger', issuer);

  return {
    ...client,
    ledger,
    config,
    async outcomes(type, causeId, count = 1) {
      return client.awaitPublished(type, (event) => event.causationid === causeId, count);
    },
    async projected() {
      const projections = db as unknown as Kysely<ProjectionTables>;
      await waitFor(
        async () => {
          const row = await projections
            .selectFrom('projection_checkpoint')
            .select('checkpoint')
            .where('name', '=', PROJECTOR_NAME)
            .executeTakeFirstOrThrow();
          const after = await store.readAll({
            ...(row.checkpoint ? { after: row.checkpoint } : {}),
            limit: 1,
          });
          return after.length === 0;
        },
        { what: 'the projector to catch up' },
      );
    },
    async fundCompany(companyId, amount) {
      const outcome = await ledger.resources.engine.transfer([
        {
          id: randomUUID(),
          debit_account: accountIds.world,
          credit_account: accountIds.companyCredits(companyId),
          amount,
          currency: config.LEDGER_CURRENCY,
          code: 'topup',
        },
      ]);
      if (!outcome.ok) throw new Error(`could not fund company ${companyId}: ${outcome.rejection.detail}`);
    },
    async stop() {
      await ledger.stop();
      await test.drop();
    },
  };
}

/** Another service's event, as its producer would build it. */
export function foreign<T extends EventType>(type: T, data: EventData<T>, subject?: string): TesseraEvent<T> {
  return foreignEvent(type, data, subject);
}

export const usd = (amount: number) => ({ amount, currency: 'USD' });
