import { companyMemberHandlers, type ConsumerSpec } from '@tessera/service-kit';
import { arrivalOf } from '../claims/arrivals.ts';
import { claimHandlers } from '../claims/projection.ts';
import type { SubmissionsContext } from '../context.ts';
import type { SubmissionsDB } from '../db/schema.ts';
import { reviewAccessHandlers } from '../listing/review-access.ts';
import { verdictHandlers } from '../verdicts/consumer.ts';

/** Consumer names, also their keys in the inbox (tests wait on them). */
export const consumerNames = {
  identity: 'submissions-identity',
  tasks: 'submissions-tasks',
  qc: 'submissions-qc',
} as const;

/** One durable consumer per stream read (nats-server 2.9: one filter each). */
export function submissionsConsumers({
  config,
  clock,
  logger,
  resources,
}: SubmissionsContext): ConsumerSpec<SubmissionsDB>[] {
  const rules = { revisionWindowMs: config.SUBMISSIONS_REVISION_WINDOW_HOURS * 3_600_000 };
  return [
    {
      name: consumerNames.identity,
      producer: 'identity',
      filter: 'identity.company.>',
      handlers: companyMemberHandlers(),
    },
    {
      name: consumerNames.tasks,
      producer: 'tasks',
      handlers: claimHandlers(),
      // After the commit, not in the handler: a hand-in woken before it would find nothing yet.
      hooks: {
        afterCommit: (event) => {
          const arrived = arrivalOf(event);
          if (arrived) resources.claimArrivals.notify(arrived);
        },
      },
    },
    {
      name: consumerNames.qc,
      producer: 'qc',
      handlers: {
        ...reviewAccessHandlers(),
        ...verdictHandlers({ rules, clock, logger: logger.child({ component: 'verdicts' }) }),
      },
    },
  ];
}
