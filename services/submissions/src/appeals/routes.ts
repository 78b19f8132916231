import { type HttpApp, idParams, principalOf, refuse, safeText, timestamp } from '@tessera/service-kit';
import { z } from 'zod';
import type { SubmissionsContext } from '../context.ts';
import { fileAppeal } from './handle.ts';

const appealSchema = z.object({
  id: z.uuid(),
  submission_id: z.uuid(),
  status: z.enum(['open', 'upheld', 'overturned']),
  reason: z.string(),
  filed_at: timestamp,
});

export function appealRoutes(app: HttpApp, { db, clock }: SubmissionsContext): void {
  app.post(
    '/api/v1/submissions/:id/appeal',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['submissions'],
        summary: 'Appeal a rejection of your work: once, within 7 days; an admin decides',
        security: [{ bearerAuth: [] }],
        params: idParams,
        body: z.strictObject({ reason: safeText(2000, { multiline: true }).pipe(z.string().min(10)) }),
        response: { 202: z.object({ appeal: appealSchema }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.role !== 'contributor' || principal.companyId !== undefined) {
        throw refuse.forbidden('Only the contributor who did the work appeals it.');
      }
      const appeal = await fileAppeal(
        { db, clock },
        {
          contributorId: principal.userId.toLowerCase(),
          submissionId: request.params.id,
          reason: request.body.reason,
        },
      );
      return reply.code(202).send({
        appeal: {
          id: appeal.id,
          submission_id: appeal.submissionId,
          status: appeal.status,
          reason: appeal.reason,
          filed_at: appeal.filedAt.toISOString(),
        },
      });
    },
  );
}
