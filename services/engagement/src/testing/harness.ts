// Test support: a real engagement service (Postgres, NATS) on its own database and subject prefix,
// a client to drive it, and `handle`, which delivers another service's event to the consumer that
// reads its stream and waits until it is applied.
import { KeyObject, randomUUID, sign } from 'node:crypto';
import { taskPublishedData } from '@tessera/contracts/testing';
import {
  type EventData,
  type EventType,
  producerOf,
  streamFor,
  type TaskType,
  type TesseraEvent,
} from '@tessera/contracts';
import {
  type Clock,
  createLogger,
  createTokenVerifier,
  type KitTables,
  type StartOptions,
} from '@tessera/service-kit';
import {
  createTestIssuer,
  foreignEvent,
  type ServiceTestClient,
  serviceTestClient,
  type TestServers,
  testServiceConfig,
  waitFor,
} from '@tessera/service-kit/testing';
import type { Kysely } from 'kysely';
import { type EngagementConfig, engagementConfigSchema } from '../config.ts';
import { consumerNames, type Producer } from '../messaging/consumers.ts';
import { type RunningEngagement, startEngagement } from '../service.ts';

export interface TestEngagement extends ServiceTestClient {
  service: RunningEngagement;
  config: EngagementConfig;
  /** Delivers an event to the consumer of its producer's stream and waits until it is applied. */
  handle(event: TesseraEvent): Promise<void>;
  /** Builds `type` as its producer would and handles it; answers the event. */
  emit<T extends EventType>(type: T, data: EventData<T>, options?: { time?: Date }): Promise<TesseraEvent<T>>;
  /** A task of `type` published by tasks in the given campaign (so the catalog knows it); its id. */
  publishTask(type: TaskType, campaign: { campaignId: string; companyId: string }): Promise<string>;
  /** A user's access token of session `sessionId` (`sid`), expiring at `expiresAt` (15 min by default). */
  sessionToken(userId: string, options: { sessionId: string; expiresAt?: Date; role?: string }): string;
  /** A contributor announced by identity, and their token. */
  contributor(options?: { referralCode?: string }): Promise<TestUser>;
  /**
   * Waits until what engagement told itself has come back: every outbox row published and the
   * consumer of its own stream (level changes, badges → notifications) idle.
   */
  settled(): Promise<void>;
  /** Stops the service and starts it again on the same database and bus (a crash and restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** An approval of a fresh submission by `contributorId`, as submissions announces it. */
export function approvalOf(
  contributorId: string,
  extra: Partial<EventData<'submissions.submission.approved.v1'>> = {},
): EventData<'submissions.submission.approved.v1'> {
  return {
    submission_id: randomUUID(),
    task_id: randomUUID(),
    campaign_id: randomUUID(),
    contributor_id: contributorId,
    reward: { amount: 100, currency: 'USD' },
    xp_reward: 0,
    ...extra,
  };
}

export interface TestUser {
  id: string;
  token: string;
}

export async function startTestEngagement(
  overrides: Record<string, unknown> = {},
  options: Pick<StartOptions, 'workers'> & { clock?: Clock; servers?: TestServers } = {},
): Promise<TestEngagement> {
  const issuer = await createTestIssuer();
  const test = await testServiceConfig('engagement', {}, options.servers);
  const config = engagementConfigSchema.parse({ ...test.config, ...overrides });
  const start = () =>
    startEngagement(config, {
      logger: createLogger({
        name: 'engagement',
        level: process.env.TEST_LOG_LEVEL ?? 'silent',
        pretty: false,
      }),
      tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
      relayPollIntervalMs: 50,
      consumerOverrides: { backoffMs: [50, 100, 200], ackWaitMs: 2_000, maxDeliver: 8 },
      ...(options.workers ? { workers: options.workers } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
  let service = await start();
  let client = serviceTestClient(service, 'engagement', issuer);
  const handle = (event: TesseraEvent) =>
    client.deliver(consumerNames[producerOf(event.type) as Producer], event);
  const harness: TestEngagement = {
    ...client,
    service,
    config,
    handle,
    async emit(type, data, { time } = {}) {
      const event = foreignEvent(type, data);
      if (time) event.time = time.toISOString();
      await handle(event as TesseraEvent);
      return event;
    },
    async publishTask(type, { campaignId, companyId }) {
      const taskId = randomUUID();
      await harness.emit(
        'tasks.task.published.v1',
        taskPublishedData(type, { taskId, campaignId, companyId }),
      );
      return taskId;
    },
    sessionToken(userId, { sessionId, expiresAt, role = 'contributor' }) {
      // Signed by hand as the kit's companyKeyToken is: the test issuer's token() sets no `sid`.
      const now = Math.floor(Date.now() / 1000);
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const signed = `${encode({ alg: 'EdDSA', kid: issuer.jwks.keys[0]?.kid })}.${encode({
        sub: userId,
        role,
        sid: sessionId,
        jti: randomUUID(),
        iss: issuer.issuer,
        aud: issuer.audience,
        iat: now,
        exp: expiresAt ? Math.floor(expiresAt.getTime() / 1000) : now + 900,
      })}`;
      const signature = sign(null, Buffer.from(signed), KeyObject.from(issuer.privateKey));
      return `${signed}.${signature.toString('base64url')}`;
    },
    async contributor({ referralCode } = {}) {
      const id = randomUUID();
      await harness.emit('identity.user.registered.v1', {
        user_id: id,
        role: 'contributor',
        country: 'NG',
        languages: ['en'],
        ...(referralCode ? { referral_code: referralCode } : {}),
      });
      return { id, token: await client.token({ sub: id, role: 'contributor' }) };
    },
    async settled() {
      const kit = service.db as unknown as Kysely<KitTables>;
      const stream = streamFor('engagement', service.bus.ns).name;
      await waitFor(
        async () => {
          const unpublished = await kit
            .selectFrom('outbox')
            .select('position')
            .where('published_at', 'is', null)
            .executeTakeFirst();
          if (unpublished) return false;
          const info = await service.bus.jsm.consumers.info(stream, consumerNames.engagement);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        { what: 'engagement to handle its own events' },
      );
    },
    async restart() {
      await service.stop();
      service = await start();
      client = serviceTestClient(service, 'engagement', issuer);
      Object.assign(harness, client, { service });
    },
    async stop() {
      await service.stop();
      await test.drop();
    },
  };
  return harness;
}
