// Test support: a real submissions service (Postgres, NATS) on its own database and subject prefix,
// a client to drive it, and fixtures that announce tasks and claims as tasks would.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EventData, TaskType } from '@tessera/contracts';
import { taskPublishedData } from '@tessera/contracts/testing';
import { createLogger, createTokenVerifier } from '@tessera/service-kit';
import {
  createTestIssuer,
  foreignEvent,
  type ServiceTestClient,
  serviceTestClient,
  testServiceConfig,
} from '@tessera/service-kit/testing';
import { type SubmissionsConfig, submissionsConfigSchema } from '../config.ts';
import { consumerNames } from '../messaging/consumers.ts';
import { fileUpload } from './media.ts';
import { type RunningSubmissions, startSubmissions } from '../service.ts';

export interface TestSubmissions extends ServiceTestClient {
  /** Uploads `bytes` as the file of `POST /api/v1/media`; the media id (throws unless 201). */
  upload(token: string, bytes: Uint8Array): Promise<string>;
  service: RunningSubmissions;
  config: SubmissionsConfig;
  fixtures: Fixtures;
  /** This test file's media folder (MEDIA_STORAGE=local), removed by `stop`. */
  mediaDir: string;
  stop(): Promise<void>;
}

export async function startTestSubmissions(
  overrides: Partial<SubmissionsConfig> = {},
  /** Workers switched off by name (`submissionsWorkers`), to drive their work by hand. */
  options: { workers?: Record<string, boolean> } = {},
): Promise<TestSubmissions> {
  const issuer = await createTestIssuer();
  const test = await testServiceConfig('submissions');
  const mediaDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-media-'));
  const config = submissionsConfigSchema.parse({
    ...test.config,
    SUBMISSIONS_CLAIM_WAIT_MS: 300,
    SUBMISSIONS_SCREEN_INTERVAL_MS: 50,
    MEDIA_STORAGE: 'local',
    MEDIA_DIR: mediaDir,
    ...overrides,
  });
  const service = await startSubmissions(config, {
    logger: createLogger({
      name: 'submissions',
      level: process.env.TEST_LOG_LEVEL ?? 'silent',
      pretty: false,
    }),
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
    relayPollIntervalMs: 50,
    consumerOverrides: { backoffMs: [50, 100, 200], ackWaitMs: 2_000, maxDeliver: 8 },
    ...(options.workers ? { workers: options.workers } : {}),
  });
  const client = serviceTestClient(service, 'submissions', issuer);
  return {
    ...client,
    service,
    config,
    fixtures: fixtures(client),
    upload: (token, bytes) => upload(service, token, bytes),
    mediaDir,
    async stop() {
      await service.stop();
      await test.drop();
      await rm(mediaDir, { recursive: true, force: true });
    },
  };
}

/** Submissions' image tasks ask for a photograph, not labels (the media checks' own fixtures). */
const photographInput = {
  prompt: 'Photograph a street sign',
  image_url: null,
  labels: [],
  multi_label: false,
};

export interface TaskFixture {
  taskId: string;
  campaignId: string;
  companyId: string;
  type: TaskType;
}

export interface ClaimFixture extends TaskFixture {
  assignmentId: string;
  contributorId: string;
  token: string;
}

export interface Fixtures {
  /** Announces a task as tasks would (tasks.task.published.v1) and waits until it is known. */
  task(
    type: TaskType,
    input?: Record<string, unknown>,
    extra?: Partial<EventData<'tasks.task.published.v1'>>,
  ): Promise<TaskFixture>;
  /** Announces a claim of `task` by a new (or given) contributor and waits until it is known. */
  claim(
    task: TaskFixture,
    options?: { contributorId?: string; expiresAt?: Date; reward?: number },
  ): Promise<ClaimFixture>;
  /** A task and a claim of it in one go. */
  claimed(type: TaskType, input?: Record<string, unknown>): Promise<ClaimFixture>;
  /** A company member as identity announces one; returns their access token. */
  member(companyId: string, role?: 'manager' | 'viewer'): Promise<string>;
}

/** tasks' announcement of a new task (not yet delivered), with its ids. */
export function taskPublished(
  type: TaskType,
  input?: Record<string, unknown>,
  extra: Partial<EventData<'tasks.task.published.v1'>> = {},
) {
  const taskId = randomUUID();
  const campaignId = extra.campaign_id ?? randomUUID();
  const companyId = extra.company_id ?? randomUUID();
  const event = foreignEvent(
    'tasks.task.published.v1',
    taskPublishedData(
      type,
      { taskId, campaignId, companyId },
      { ...(input ? { input } : type === 'image' ? { input: photographInput } : {}), ...extra },
    ),
    taskId,
  );
  return { event, taskId, campaignId, companyId, type };
}

function fixtures(client: ServiceTestClient): Fixtures {
  const self: Fixtures = {
    async task(type, input, extra = {}) {
      const { event, ...task } = taskPublished(type, input, extra);
      await client.deliver(consumerNames.tasks, event);
      return task;
    },
    async claim(task, options = {}) {
      const contributorId = options.contributorId ?? randomUUID();
      const assignmentId = randomUUID();
      await client.deliver(
        consumerNames.tasks,
        foreignEvent(
          'tasks.assignment.claimed.v1',
          {
            assignment_id: assignmentId,
            task_id: task.taskId,
            campaign_id: task.campaignId,
            company_id: task.companyId,
            contributor_id: contributorId,
            reward: { amount: options.reward ?? 150, currency: 'USD' },
            xp_reward: 10,
            judge_fee: { amount: 12, currency: 'USD' },
            max_judges: 4,
            expires_at: (options.expiresAt ?? new Date(Date.now() + 3_600_000)).toISOString(),
          },
          assignmentId,
        ),
      );
      return {
        ...task,
        assignmentId,
        contributorId,
        token: await client.token({ sub: contributorId, role: 'contributor' }),
      };
    },
    async member(companyId, role = 'viewer') {
      const userId = randomUUID();
      await client.deliver(
        consumerNames.identity,
        foreignEvent('identity.company.member-added.v1', {
          company_id: companyId,
          user_id: userId,
          member_role: role,
        }),
      );
      return client.token({ sub: userId, role: 'company' });
    },
    async claimed(type, input) {
      return self.claim(await self.task(type, input));
    },
  };
  return self;
}

async function upload(service: RunningSubmissions, token: string, bytes: Uint8Array): Promise<string> {
  const { body, contentType } = fileUpload(Buffer.from(bytes));
  const response = await service.app.inject({
    method: 'POST',
    url: '/api/v1/media',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    payload: body,
  });
  if (response.statusCode !== 201)
    throw new Error(`upload answered ${response.statusCode}: ${response.body}`);
  return response.json<{ media: { id: string } }>().media.id;
}
