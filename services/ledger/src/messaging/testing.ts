// Test support: a real ledger (Postgres, NATS, engine, projector) on its own database and subject
// prefix, and helpers to publish other services' events and wait for what the ledger does.
import {
  buildEvent,
  type EventData,
  type EventType,
  subjectFor,
  type TesseraEvent,
} from '@tessera/contracts';
import { createLogger, createTokenVerifier, type Role } from '@tessera/service-kit';
import {
  createTestIssuer,
  readStream,
  testServiceConfig,
  waitFor,
  waitForHandled,
} from '@tessera/service-kit/testing';
import { KeyObject, randomUUID, sign } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type LedgerConfig, ledgerConfigSchema } from '../config.ts';
import { accountIds } from '../domain/accounts.ts';
import type { ProjectionTables } from '../projections/schema.ts';
import { PROJECTOR_NAME } from '../projections/schema.ts';
import { type LedgerStartOptions, type RunningLedger, startLedger } from '../service.ts';

export interface InjectRequest {
  method?: 'GET' | 'POST';
  url: string;
  token?: string;
  /** The Idempotency-Key header. */
  key?: string;
  body?: unknown;
}

export interface TestLedger {
  ledger: RunningLedger;
  config: LedgerConfig;
  token(claims?: { sub?: string; role?: Role }): Promise<string>;
  /** A token as identity issues to a company's API key: role company, `company_id` and `scopes`. */
  companyKeyToken(companyId: string, scopes: string[]): string;
  /**
   * An HTTP request through the app, retried while the kit sheds load (503 OVERLOADED), as it does
   * when the event loop lags on a busy test machine.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON for assertions
  inject(request: InjectRequest): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  /** Publishes an event as its producer would (msgID = event id unless given). */
  publish(event: TesseraEvent, msgID?: string): Promise<void>;
  /** Publishes and waits until `consumer` committed its handling. */
  deliver(consumer: string, event: TesseraEvent, msgID?: string): Promise<void>;
  /** The ledger's published events (relayed from the outbox), optionally of one type. */
  published<T extends EventType>(type?: T): Promise<TesseraEvent<T>[]>;
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
  const { bus, db, store } = ledger;

  const publish = async (event: TesseraEvent, msgID?: string) => {
    await bus.js.publish(subjectFor(event.type, bus.ns), JSON.stringify(event), { msgID: msgID ?? event.id });
  };
  const published = async <T extends EventType>(type?: T): Promise<TesseraEvent<T>[]> =>
    (await readStream(bus, 'ledger'))
      .map((message) => message.data as TesseraEvent<T>)
      .filter((event) => type === undefined || event.type === type);

  return {
    ledger,
    config,
    token: (claims = {}) => issuer.token(claims),
    companyKeyToken(companyId, scopes) {
      const now = Math.floor(Date.now() / 1000);
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const signed = `${encode({ alg: 'EdDSA', kid: issuer.jwks.keys[0]?.kid })}.${encode({
        sub: randomUUID(),
        role: 'company',
        company_id: companyId,
        scopes,
        jti: randomUUID(),
        iss: issuer.issuer,
        aud: issuer.audience,
        iat: now,
        exp: now + 600,
      })}`;
      const signature = sign(null, Buffer.from(signed), KeyObject.from(issuer.privateKey));
      return `${signed}.${signature.toString('base64url')}`;
    },
    async inject({ method = 'GET', url, token, key, body }) {
      for (let attempt = 1; ; attempt++) {
        const response = await ledger.app.inject({
          method,
          url,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(key ? { 'idempotency-key': key } : {}),
          },
          ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
        });
        const parsed: unknown = response.body ? response.json() : undefined;
        const overloaded =
          response.statusCode === 503 && (parsed as { code?: string })?.code === 'OVERLOADED';
        if (!overloaded || attempt === 20) {
          return { status: response.statusCode, body: parsed, headers: response.headers };
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    publish,
    async deliver(consumer, event, msgID) {
      await publish(event, msgID);
      await waitForHandled(db, consumer, event.id);
    },
    published,
    async outcomes(type, causeId, count = 1) {
      let found: Awaited<ReturnType<typeof published<typeof type>>> = [];
      await waitFor(
        async () => {
          found = (await published(type)).filter((event) => event.causationid === causeId);
          return found.length >= count;
        },
        { what: `${count} × ${type} caused by ${causeId}` },
      );
      return found;
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
      const outcome = await ledger.engine.transfer([
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
  return buildEvent(type, data, { subject: subject ?? randomUUID() });
}

export const usd = (amount: number) => ({ amount, currency: 'USD' });
