// Test support: a real tasks service (Postgres, NATS) on its own database and subject prefix, a
// client to drive it (HTTP, tokens, events in and out), and fixtures for the state tests start from.
import { randomUUID } from 'node:crypto';
import type { TesseraEvent } from '@tessera/contracts';
import { createLogger, createTokenVerifier } from '@tessera/service-kit';
import {
  createTestIssuer,
  type ServiceTestClient,
  serviceTestClient,
  testServiceConfig,
} from '@tessera/service-kit/testing';
import { type TasksConfig, tasksConfigSchema } from '../config.ts';
import type { Insertable } from 'kysely';
import type { CampaignsTable, ContributorsTable, TasksTable } from '../db/schema.ts';
import { type RunningTasks, startTasks, tasksWorkers } from '../service.ts';

/** An event as tasks wrote it to its outbox (the kit's `written`). */
export type Written = TesseraEvent;

export interface TestTasks extends ServiceTestClient {
  tasks: RunningTasks;
  config: TasksConfig;
  fixtures: Fixtures;
  stop(): Promise<void>;
}

/** Tests switch the jobs that follow the clock off, to drive them by hand. */
export interface TestTasksOptions {
  background?: { expiry?: boolean; schedule?: boolean };
}

export async function startTestTasks(
  overrides: Partial<TasksConfig> = {},
  { background = {} }: TestTasksOptions = {},
): Promise<TestTasks> {
  const issuer = await createTestIssuer();
  const test = await testServiceConfig('tasks');
  const config = tasksConfigSchema.parse({
    ...test.config,
    TASKS_EXPIRY_INTERVAL_MS: 100,
    TASKS_SCHEDULE_INTERVAL_MS: 100,
    ...overrides,
  });
  const tasks = await startTasks(config, {
    logger: createLogger({ name: 'tasks', level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false }),
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
    relayPollIntervalMs: 50,
    consumerOverrides: { backoffMs: [50, 100, 200], ackWaitMs: 2_000, maxDeliver: 8 },
    workers: {
      [tasksWorkers.assignmentExpiry]: background.expiry ?? true,
      [tasksWorkers.campaignSchedule]: background.schedule ?? true,
    },
  });
  return {
    ...serviceTestClient(tasks, 'tasks', issuer),
    tasks,
    config,
    fixtures: fixtures(tasks),
    async stop() {
      await tasks.stop();
      await test.drop();
    },
  };
}

type Partial_<T> = Partial<Insertable<T>>;

export interface Fixtures {
  /**
   * A funded, active campaign written straight to the database (what activate + ledger funded
   * would leave), for tests about something else.
   */
  activeCampaign(values?: Partial_<CampaignsTable>): Promise<{ id: string; company_id: string }>;
  /** An active task in `campaignId`; defaults: text task, reward 100, 10 slots, open to anyone. */
  task(campaignId: string, values?: Partial_<TasksTable>): Promise<{ id: string }>;
  /** A contributor in the eligibility read model (what identity and engagement events leave). */
  contributor(values?: Partial_<ContributorsTable>): Promise<{ user_id: string }>;
  /** A member of a company in the read model (what identity's member-added leaves). */
  member(companyId: string, userId: string, memberRole?: 'manager' | 'viewer' | 'billing'): Promise<void>;
}

function fixtures(tasks: RunningTasks): Fixtures {
  const { db } = tasks;
  return {
    async activeCampaign(values = {}) {
      const row: Insertable<CampaignsTable> = {
        id: randomUUID(),
        company_id: randomUUID(),
        name: 'Fixture campaign',
        description: 'A funded campaign for tests',
        currency: 'USD',
        budget_amount: 1_000_000,
        funded_amount: 1_000_000,
        target_count: null,
        is_private: false,
        status: 'active',
        created_by: randomUUID(),
        ...values,
      };
      await db.insertInto('campaigns').values(row).execute();
      return { id: row.id, company_id: row.company_id };
    },
    async task(campaignId, values = {}) {
      const campaign = await db
        .selectFrom('campaigns')
        .select(['company_id', 'currency'])
        .where('id', '=', campaignId)
        .executeTakeFirstOrThrow();
      const row: Insertable<TasksTable> = {
        id: randomUUID(),
        campaign_id: campaignId,
        company_id: campaign.company_id,
        title: 'Fixture task',
        description: 'Write one sentence.',
        task_type: 'text',
        input: JSON.stringify({ prompt: 'Say hello', language: 'en', min_chars: 1, max_chars: 500 }),
        difficulty: 'easy',
        reward_amount: 100,
        currency: campaign.currency,
        xp_reward: 10,
        max_submissions: 10,
        judges_required: 3,
        min_trust_score: 0,
        min_level: 1,
        claim_ttl_seconds: 3600,
        status: 'active',
        created_by: randomUUID(),
        ...values,
      };
      await db.insertInto('tasks').values(row).execute();
      return { id: row.id };
    },
    async contributor(values = {}) {
      const row: Insertable<ContributorsTable> = {
        user_id: randomUUID(),
        role: 'contributor',
        status: 'active',
        level: 1,
        trust_score: 5,
        ...values,
      };
      await db.insertInto('contributors').values(row).execute();
      return { user_id: row.user_id };
    },
    async member(companyId, userId, memberRole = 'manager') {
      await db
        .insertInto('company_members')
        .values({
          company_id: companyId,
          user_id: userId,
          member_role: memberRole,
          removed: false,
          changed_at: new Date(),
        })
        .execute();
    },
  };
}
