import {
  after,
  cursorParam,
  encodeCursor,
  type HttpApp,
  limitParam,
  paginate,
  requireRole,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { SubmissionsContext } from '../context.ts';

const signals = ['too_fast', 'burst', 'low_approval_rate', 'shared_content'] as const;

const flagSchema = z.object({
  id: z.uuid(),
  contributor_id: z.uuid(),
  signal: z.enum(signals),
  submission_id: z.uuid().nullable(),
  campaign_id: z.uuid().nullable(),
  details: z.record(z.string(), z.unknown()),
  raised_at: timestamp,
});

/** Admins review the fraud flags, newest first. */
export function fraudRoutes(app: HttpApp, { db }: SubmissionsContext): void {
  app.get(
    '/api/v1/admin/submissions/flags',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['submissions'],
        summary: 'Fraud flags, newest first (admins); a flag never rejects work by itself',
        security: [{ bearerAuth: [] }],
        querystring: z.strictObject({
          signal: z.enum(signals).optional(),
          contributor_id: uuidParam.optional(),
          cursor: cursorParam.optional(),
          limit: limitParam(20, 100),
        }),
        response: { 200: z.object({ flags: z.array(flagSchema), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { signal, contributor_id, cursor, limit } = request.query;
      let query = db.selectFrom('fraud_flags').selectAll();
      if (signal) query = query.where('signal', '=', signal);
      if (contributor_id) query = query.where('contributor_id', '=', contributor_id);
      if (cursor) query = query.where(after(cursor, 'raised_at', 'id'));
      const rows = await query
        .orderBy('raised_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const { page, next } = paginate(rows, limit, (row) =>
        encodeCursor({ createdAt: new Date(row.raised_at), id: row.id }),
      );
      return {
        flags: page.map((row) => ({
          id: row.id,
          contributor_id: row.contributor_id,
          signal: row.signal,
          submission_id: row.submission_id,
          campaign_id: row.campaign_id,
          details: row.details as Record<string, unknown>,
          raised_at: new Date(row.raised_at).toISOString(),
        })),
        next_cursor: next,
      };
    },
  );
}
