import { type HttpApp, idempotencyHeaders, principalOf, refuse, uuidParam } from '@tessera/service-kit';
import { z } from 'zod';
import type { SubmissionsContext } from '../context.ts';
import { presentSubmission, submissionSchema } from '../listing/present.ts';
import { submitWork } from './handle.ts';

const body = z.strictObject({
  assignment_id: uuidParam,
  /** Checked against the task's type and input (see intake/payloads.ts). */
  payload: z.record(z.string(), z.unknown()),
  time_spent_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600),
});

export function intakeRoutes(app: HttpApp, { db, clock, config, resources }: SubmissionsContext): void {
  app.post(
    '/api/v1/submissions',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['submissions'],
        summary: 'Hand in work under your claim (contributors); a revision when review asked for one',
        security: [{ bearerAuth: [] }],
        headers: idempotencyHeaders,
        body,
        response: { 202: z.object({ submission: submissionSchema }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.role !== 'contributor' || principal.companyId !== undefined) {
        throw refuse.forbidden('Only contributors hand in work.');
      }
      const submission = await submitWork(
        {
          db,
          clock,
          claimWaitMs: config.SUBMISSIONS_CLAIM_WAIT_MS,
          arrivals: resources.claimArrivals,
        },
        {
          contributorId: principal.userId.toLowerCase(),
          assignmentId: request.body.assignment_id,
          payload: request.body.payload,
          timeSpentSeconds: request.body.time_spent_seconds,
          idempotencyKey: request.headers['idempotency-key'],
        },
      );
      if (submission.status === 'received') resources.screening.pull();
      return reply.code(202).send({ submission: presentSubmission(submission) });
    },
  );
}
