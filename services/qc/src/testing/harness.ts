// Test support: a real QC service (Postgres, NATS) on its own database and subject prefix, a client
// to drive it, and fixtures that announce tasks, validated submissions and judges as the other
// services would.
import { randomUUID } from 'node:crypto';
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
import { type QcConfig, qcConfigSchema } from '../config.ts';
import type { Random } from '../consensus/prng.ts';
import { consumerNames } from '../messaging/consumers.ts';
import { qcWorkers, type RunningQc, startQc } from '../service.ts';

export interface TestQc extends ServiceTestClient {
  service: RunningQc;
  config: QcConfig;
  fixtures: Fixtures;
  stop(): Promise<void>;
}

export async function startTestQc(
  overrides: Partial<QcConfig> = {},
  options: { workers?: Record<string, boolean>; clock?: () => Date; random?: Random } = {},
): Promise<TestQc> {
  const issuer = await createTestIssuer();
  const test = await testServiceConfig('qc');
  const config = qcConfigSchema.parse({ ...test.config, QC_HONEYPOT_EVERY: 0, ...overrides });
  const service = await startQc(config, {
    logger: createLogger({ name: 'qc', level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false }),
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
    relayPollIntervalMs: 50,
    consumerOverrides: { backoffMs: [50, 100, 200], ackWaitMs: 2_000, maxDeliver: 8 },
    // The case-escalation worker is off unless a test asks for it: a case opened before the test's
    // judges exist has none eligible, and would go to the admin queue mid-test. The honeypot-fees
    // worker too: a test counts and pays due honeypots by hand (`payDueHoneypotFees`) at the time it
    // chooses, or switches the worker on.
    workers: { [qcWorkers.caseEscalation]: false, [qcWorkers.honeypotFees]: false, ...options.workers },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const client = serviceTestClient(service, 'qc', issuer);
  return {
    ...client,
    service,
    config,
    fixtures: fixtures(client),
    async stop() {
      await service.stop();
      await test.drop();
    },
  };
}

export interface TaskFixture {
  taskId: string;
  campaignId: string;
  companyId: string;
  type: TaskType;
}

export interface SubmissionFixture extends TaskFixture {
  submissionId: string;
  assignmentId: string;
  contributorId: string;
}

export interface Judge {
  id: string;
  token: string;
}

export interface Fixtures {
  task(type?: TaskType, extra?: Partial<EventData<'tasks.task.published.v1'>>): Promise<TaskFixture>;
  /** A submission that passed pre-validation (submissions.submission.validated.v1). */
  submission(
    task: TaskFixture,
    extra?: Partial<EventData<'submissions.submission.validated.v1'>>,
  ): Promise<SubmissionFixture>;
  /** A contributor at level 5 and trust 8.0: a judge without appointment. */
  judge(): Promise<Judge>;
  /** A company member as identity announces one. */
  member(companyId: string, userId?: string): Promise<void>;
}

/** A task as tasks announces one (published or updated), with the harness's defaults. */
export function taskData(
  type: TaskType,
  ids: { taskId: string; campaignId: string; companyId: string },
): EventData<'tasks.task.published.v1'> {
  return taskPublishedData(type, ids, { judge_fee: { amount: 10, currency: 'USD' }, max_judges: 5 });
}

function fixtures(client: ServiceTestClient): Fixtures {
  return {
    async task(type = 'text', extra = {}) {
      const taskId = randomUUID();
      const campaignId = extra.campaign_id ?? randomUUID();
      const companyId = extra.company_id ?? randomUUID();
      await client.deliver(
        consumerNames.tasks,
        foreignEvent(
          'tasks.task.published.v1',
          { ...taskData(type, { taskId, campaignId, companyId }), ...extra },
          taskId,
        ),
      );
      return { taskId, campaignId, companyId, type };
    },
    async submission(task, extra = {}) {
      const submissionId = randomUUID();
      const assignmentId = randomUUID();
      const contributorId = randomUUID();
      await client.deliver(
        consumerNames.submissions,
        foreignEvent(
          'submissions.submission.validated.v1',
          {
            submission_id: submissionId,
            assignment_id: assignmentId,
            task_id: task.taskId,
            campaign_id: task.campaignId,
            company_id: task.companyId,
            contributor_id: contributorId,
            task_type: task.type,
            revision: 1,
            judges_required: 3,
            judge_fee: { amount: 10, currency: 'USD' },
            max_judges: 5,
            is_golden: false,
            answer: null,
            media: [],
            submitted_at: new Date().toISOString(),
            ...extra,
          },
          submissionId,
        ),
      );
      return {
        ...task,
        submissionId: extra.submission_id ?? submissionId,
        assignmentId: extra.assignment_id ?? assignmentId,
        contributorId: extra.contributor_id ?? contributorId,
      };
    },
    async judge() {
      const id = randomUUID();
      await client.deliver(
        consumerNames.engagement,
        foreignEvent('engagement.contributor.level-changed.v1', { user_id: id, level: 5 }),
      );
      await client.deliver(
        consumerNames.engagement,
        foreignEvent('engagement.contributor.trust-changed.v1', { user_id: id, trust_score: 8 }),
      );
      return { id, token: await client.token({ sub: id, role: 'contributor' }) };
    },
    async member(companyId, userId = randomUUID()) {
      await client.deliver(
        consumerNames.identity,
        foreignEvent('identity.company.member-added.v1', {
          company_id: companyId,
          user_id: userId,
          member_role: 'viewer',
        }),
      );
    },
  };
}
