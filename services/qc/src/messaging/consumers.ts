import { companyMemberHandlers, type ConsumerSpec } from '@tessera/service-kit';
import { appealFiled } from '../admin/handle.ts';
import { lockTasksOf, openCase, taskKnown } from '../cases/handle.ts';
import type { QcContext } from '../context.ts';
import type { QcDB } from '../db/schema.ts';
import {
  levelChanged,
  lockJudgesOf,
  statusChanged,
  trustChanged,
  userRegistered,
} from '../judges/repository.ts';

/** Consumer names, also their keys in the inbox (tests wait on them). */
export const consumerNames = {
  identity: 'qc-identity',
  engagement: 'qc-engagement',
  tasks: 'qc-tasks',
  submissions: 'qc-submissions',
} as const;

/** One durable consumer per stream read (nats-server 2.9: one filter each); the judges' read model locks a batch's judges first. */
export function qcConsumers({ config, clock, logger }: QcContext): ConsumerSpec<QcDB>[] {
  const log = logger.child({ component: 'cases' });
  const caseDefaults = { maxJudges: config.QC_MAX_OVERLAP };
  return [
    {
      name: consumerNames.identity,
      producer: 'identity',
      lockFirst: lockJudgesOf,
      handlers: {
        'identity.user.registered.v1': (event, trx) =>
          userRegistered(trx, event.data.user_id, event.data.role),
        'identity.user.suspended.v1': (event, trx) =>
          statusChanged(trx, event.data.user_id, 'suspended', event.time),
        'identity.user.reinstated.v1': (event, trx) =>
          statusChanged(trx, event.data.user_id, 'active', event.time),
        'identity.user.erased.v1': (event, trx) =>
          statusChanged(trx, event.data.user_id, 'erased', event.time),
        ...companyMemberHandlers<QcDB>(),
      },
    },
    {
      name: consumerNames.engagement,
      producer: 'engagement',
      filter: 'engagement.contributor.>',
      lockFirst: lockJudgesOf,
      handlers: {
        'engagement.contributor.level-changed.v1': (event, trx) =>
          levelChanged(trx, event.data.user_id, event.data.level, event.time),
        'engagement.contributor.trust-changed.v1': (event, trx) =>
          trustChanged(trx, event.data.user_id, event.data.trust_score, event.time),
      },
    },
    {
      name: consumerNames.tasks,
      producer: 'tasks',
      filter: 'tasks.task.>',
      // A task opens the submissions that waited for it; both consumers take the tasks' locks first.
      lockFirst: lockTasksOf,
      handlers: {
        'tasks.task.published.v1': (event, trx) => taskKnown(trx, event, caseDefaults, { now: clock(), log }),
        'tasks.task.updated.v1': (event, trx) => taskKnown(trx, event, caseDefaults, { now: clock(), log }),
      },
    },
    {
      name: consumerNames.submissions,
      producer: 'submissions',
      lockFirst: lockTasksOf,
      handlers: {
        'submissions.submission.validated.v1': (event, trx) =>
          openCase(trx, event, caseDefaults, { now: clock(), log }),
        'submissions.appeal.filed.v1': (event, trx) => appealFiled(trx, event),
      },
    },
  ];
}
