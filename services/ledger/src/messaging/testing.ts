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
import { accountIds, transferStream } from '../domain/accounts.ts';
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
  /** Tasks' creation of a campaign owned by the company, delivered (the ledger learns the owner). */
  createCampaign(campaignId: string, companyId: string, currency?: string): Promise<void>;
  /** Tasks' claim of a slot with its reserved terms, delivered; returns the assignment id. */
  claim(terms: {
    campaignId: string;
    contributorId: string;
    reward: number;
    judgeFee?: number;
    maxJudges?: number;
  }): Promise<string>;
  /** An approval's data with a claim the ledger learned first, reserving the reward it names. */
  underClaim<D extends { campaign_id: string; contributor_id: string; reward: { amount: number } }>(
    data: D,
  ): Promise<D & { assignment_id: string }>;
  /**
   * A company with `credits` and a campaign it funded with `budget` (500.00 and 1,000.00 by
   * default), delivered to the ledger: the funding request is returned for its outcome.
   */
  fundedCampaign(
    credits?: number,
    budget?: number,
  ): Promise<{
    companyId: string;
    campaignId: string;
    request: TesseraEvent<'tasks.campaign.funding-requested.v1'>;
  }>;
  /** Submissions' approval of new work in the campaign, under a claim the ledger learned first. */
  approval(terms: {
    campaignId: string;
    reward: number;
    contributorId?: string;
    xp?: number;
  }): Promise<TesseraEvent<'submissions.submission.approved.v1'>>;
  /** What a USD account can still give, as the engine holds it now (0 if never opened). */
  available(accountId: string): Promise<number>;
  /** How many events the stream of a transfer holds (0: never recorded). */
  recorded(transferId: string): Promise<number>;
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

  const testLedger: TestLedger = {
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
    async createCampaign(campaignId, companyId, currency = 'USD') {
      await client.deliver(
        'ledger-tasks',
        foreignEvent('tasks.campaign.created.v1', {
          campaign_id: campaignId,
          company_id: companyId,
          budget: { amount: 1, currency },
          target_count: null,
          start_at: null,
          end_at: null,
          is_private: false,
        }),
      );
    },
    async claim(terms) {
      const assignmentId = randomUUID();
      await client.deliver(
        'ledger-tasks',
        foreignEvent('tasks.assignment.claimed.v1', {
          assignment_id: assignmentId,
          task_id: randomUUID(),
          campaign_id: terms.campaignId,
          company_id: randomUUID(),
          contributor_id: terms.contributorId,
          reward: { amount: terms.reward, currency: 'USD' },
          xp_reward: 0,
          ...(terms.judgeFee === undefined ? {} : { judge_fee: { amount: terms.judgeFee, currency: 'USD' } }),
          ...(terms.maxJudges === undefined ? {} : { max_judges: terms.maxJudges }),
          expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
      return assignmentId;
    },
    async underClaim(data) {
      const assignment_id = await testLedger.claim({
        campaignId: data.campaign_id,
        contributorId: data.contributor_id,
        reward: data.reward.amount,
      });
      return { ...data, assignment_id };
    },
    async fundedCampaign(credits = 100_000, budget = 50_000) {
      const companyId = randomUUID();
      const campaignId = randomUUID();
      await testLedger.fundCompany(companyId, credits);
      await testLedger.createCampaign(campaignId, companyId);
      const request = foreign(
        'tasks.campaign.funding-requested.v1',
        { campaign_id: campaignId, company_id: companyId, budget: usd(budget) },
        campaignId,
      );
      await client.deliver('ledger-tasks', request);
      return { companyId, campaignId, request };
    },
    async approval({ campaignId, reward, contributorId = randomUUID(), xp = 0 }) {
      return foreign(
        'submissions.submission.approved.v1',
        await testLedger.underClaim({
          submission_id: randomUUID(),
          task_id: randomUUID(),
          campaign_id: campaignId,
          contributor_id: contributorId,
          reward: usd(reward),
          xp_reward: xp,
        }),
      );
    },
    async available(accountId) {
      const account = await ledger.resources.engine.getAccount(accountId, 'USD');
      return account ? account.credits_posted - account.debits_posted - account.debits_pending : 0;
    },
    async recorded(transferId) {
      return (await ledger.resources.store.readStream(transferStream(transferId))).length;
    },
    async stop() {
      await ledger.stop();
      await test.drop();
    },
  };
  return testLedger;
}

/** Another service's event, as its producer would build it. */
export function foreign<T extends EventType>(type: T, data: EventData<T>, subject?: string): TesseraEvent<T> {
  return foreignEvent(type, data, subject);
}

export const usd = (amount: number) => ({ amount, currency: 'USD' });
