import { reasonCode } from '@tessera/contracts';
import {
  cursorParam,
  type HttpApp,
  idParams,
  limitParam,
  paginate,
  principalOf,
  requireRole,
  safeText,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { sql } from 'kysely';
import { z } from 'zod';
import { ESCALATED_REASONS } from '../cases/decide.ts';
import type { QcContext } from '../context.ts';
import { setAppointed } from '../judges/repository.ts';
import { decideQueueItem, markHoneypot } from './handle.ts';

const tags = ['admin'];
const security = [{ bearerAuth: [] }];

const queueItem = z.object({
  id: z.uuid(),
  kind: z.enum(['escalated', 'appealed']),
  submission_id: z.uuid(),
  campaign_id: z.uuid(),
  task_type: z.string().nullable(),
  /**
   * Escalated: why (`NO_CONSENSUS`: the judges split at max_judges; `NO_ELIGIBLE_JUDGES` or
   * `WAITED_TOO_LONG`: it waited in vain for judges); null for an appeal, or a case escalated
   * before the reason was kept.
   */
  escalated_reason: z.enum(ESCALATED_REASONS).nullable(),
  /** Escalated: the judges' votes, now that an admin decides (judges never see each other's). */
  votes: z.array(
    z.object({ verdict: z.string(), quality_score: z.number().nullable(), reasons: z.array(z.string()) }),
  ),
  /** Appealed: the contributor's reason and the reasons the work was rejected for. */
  appeal_reason: z.string().nullable(),
  rejected_reason_codes: z.array(z.string()),
  created_at: timestamp,
});

export function adminRoutes(app: HttpApp, { db, clock }: QcContext): void {
  const admin = [app.authenticate, requireRole('admin')];

  app.post(
    '/api/v1/admin/judges',
    {
      preHandler: admin,
      schema: {
        tags,
        summary:
          'Appoint a judge, whatever their level and trust (also restores a judge removed after honeypots)',
        security,
        body: z.strictObject({ user_id: uuidParam }),
        response: { 200: z.object({ judge: z.object({ user_id: z.uuid(), appointed: z.literal(true) }) }) },
      },
    },
    async (request) => {
      const userId = request.body.user_id;
      await db.transaction().execute((trx) => setAppointed(trx, userId, true, clock()));
      return { judge: { user_id: userId, appointed: true as const } };
    },
  );

  app.delete(
    '/api/v1/admin/judges/:user_id',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: "Withdraw a judge's appointment (they may still judge if their level and trust allow)",
        security,
        params: z.strictObject({ user_id: uuidParam }),
        response: { 200: z.object({ judge: z.object({ user_id: z.uuid(), appointed: z.literal(false) }) }) },
      },
    },
    async (request) => {
      const userId = request.params.user_id;
      await db.transaction().execute((trx) => setAppointed(trx, userId, false, clock()));
      return { judge: { user_id: userId, appointed: false as const } };
    },
  );

  app.get(
    '/api/v1/admin/reviews',
    {
      preHandler: admin,
      schema: {
        tags,
        summary:
          'The admin queue: escalated cases the judges could not settle, or open appeals, oldest first',
        security,
        querystring: z
          .strictObject({
            status: z.enum(['escalated', 'appealed']).default('escalated'),
            /** Escalated cases only: those escalated for this reason. */
            reason: z.enum(ESCALATED_REASONS).optional(),
            cursor: cursorParam.optional(),
            limit: limitParam(),
          })
          .refine((query) => query.reason === undefined || query.status === 'escalated', {
            message: 'reason filters escalated cases only',
            path: ['reason'],
          }),
        response: { 200: z.object({ items: z.array(queueItem), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { status, reason, cursor, limit } = request.query;
      // Oldest first: the rows after the cursor's (time, id).
      const past = (time: string, id: string) =>
        cursor
          ? sql<boolean>`(${sql.ref(time)}, ${sql.ref(id)}) > (${cursor.createdAt}, ${cursor.id})`
          : sql<boolean>`true`;
      if (status === 'escalated') {
        const rows = await db
          .selectFrom('cases as c')
          .select([
            'c.id',
            'c.submission_id',
            'c.campaign_id',
            'c.task_type',
            'c.escalated_reason',
            'c.created_at',
          ])
          .where('c.status', '=', 'escalated')
          .$if(reason !== undefined, (query) => query.where('c.escalated_reason', '=', reason!))
          .where(past('c.created_at', 'c.id'))
          .orderBy('c.created_at')
          .orderBy('c.id')
          .limit(limit + 1)
          .execute();
        const votes = rows.length
          ? await db
              .selectFrom('reviews')
              .select(['case_id', 'verdict', 'quality_score', 'reason_codes'])
              .where(
                'case_id',
                'in',
                rows.map((row) => row.id),
              )
              .where('kind', '=', 'consensus')
              .where('status', '=', 'submitted')
              .orderBy('submitted_at')
              .execute()
          : [];
        const { page, next } = paginate(rows, limit);
        return {
          items: page.map((row) => ({
            id: row.id,
            kind: 'escalated' as const,
            submission_id: row.submission_id,
            campaign_id: row.campaign_id,
            task_type: row.task_type,
            escalated_reason: row.escalated_reason,
            votes: votes
              .filter((vote) => vote.case_id === row.id)
              .map((vote) => ({
                verdict: vote.verdict!,
                quality_score: vote.quality_score,
                reasons: vote.reason_codes,
              })),
            appeal_reason: null,
            rejected_reason_codes: [],
            created_at: row.created_at.toISOString(),
          })),
          next_cursor: next,
        };
      }
      const rows = await db
        .selectFrom('appeals as a')
        .select([
          'a.id',
          'a.submission_id',
          'a.campaign_id',
          'a.reason',
          'a.rejected_reason_codes',
          'a.filed_at as created_at',
        ])
        .where('a.status', '=', 'open')
        .where(past('a.filed_at', 'a.id'))
        .orderBy('a.filed_at')
        .orderBy('a.id')
        .limit(limit + 1)
        .execute();
      const { page, next } = paginate(rows, limit);
      return {
        items: page.map((row) => ({
          id: row.id,
          kind: 'appealed' as const,
          submission_id: row.submission_id,
          campaign_id: row.campaign_id,
          task_type: null,
          escalated_reason: null,
          votes: [],
          appeal_reason: row.reason,
          rejected_reason_codes: row.rejected_reason_codes,
          created_at: row.created_at.toISOString(),
        })),
        next_cursor: next,
      };
    },
  );

  app.post(
    '/api/v1/admin/reviews/:id/decision',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Decide an escalated case or an appeal; final, and published like any verdict',
        security,
        params: idParams,
        body: z.strictObject({
          verdict: z.enum(['approve', 'reject', 'revision']),
          reason: safeText(2000, { multiline: true }).pipe(z.string().min(3)),
          /** What the contributor is told (codes); a rejection without any gets REJECTED_BY_ADMIN. */
          reason_codes: z.array(reasonCode).max(20).default([]),
        }),
        response: {
          200: z.object({
            decision: z.object({ id: z.uuid(), kind: z.enum(['case', 'appeal']), verdict: z.string() }),
          }),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const reasonCodes = body.reason_codes.length > 0 ? body.reason_codes : ['REJECTED_BY_ADMIN'];
      const decided = await db.transaction().execute((trx) =>
        decideQueueItem(trx, {
          id: request.params.id,
          adminId: principalOf(request).userId.toLowerCase(),
          verdict: body.verdict,
          reasonCodes,
          reason: body.reason,
          now: clock(),
        }),
      );
      return { decision: { id: request.params.id, kind: decided.kind, verdict: body.verdict } };
    },
  );

  app.post(
    '/api/v1/admin/reviews/:id/honeypot',
    {
      preHandler: admin,
      schema: {
        tags,
        summary:
          "Mark a settled case known-good or known-bad so it serves as a honeypot in judges' queues (null: stop)",
        security,
        params: idParams,
        body: z.strictObject({ verdict: z.enum(['approve', 'reject']).nullable() }),
        response: {
          200: z.object({ case: z.object({ id: z.uuid(), honeypot_verdict: z.string().nullable() }) }),
        },
      },
    },
    async (request) => {
      const verdict = request.body.verdict;
      await db.transaction().execute((trx) => markHoneypot(trx, { caseId: request.params.id, verdict }));
      return { case: { id: request.params.id, honeypot_verdict: verdict } };
    },
  );
}
