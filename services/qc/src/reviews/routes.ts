import { reasonCode } from '@tessera/contracts';
import { type HttpApp, idParams, principalOf, timestamp } from '@tessera/service-kit';
import { z } from 'zod';
import type { QcContext } from '../context.ts';
import { pruneIfInaccurate } from '../judges/pruning.ts';
import { type Judge, type Leased, leaseNext, releaseReview, submitReview } from './handle.ts';

const tags = ['reviews'];
const security = [{ bearerAuth: [] }];
const verdict = z.enum(['approve', 'reject', 'revision']);

const leasedSchema = z.object({
  id: z.uuid(),
  submission_id: z.uuid(),
  revision: z.number().int(),
  task_type: z.string(),
  task: z.object({ id: z.uuid(), input: z.record(z.string(), z.unknown()) }),
  /** Where the judge reads the work (submissions lets a judge with a lease read it). */
  submission_url: z.string(),
  media: z.array(z.object({ media_id: z.uuid(), kind: z.string(), content_url: z.string() })),
  status: z.enum(['leased', 'submitted', 'released', 'expired', 'discarded']),
  lease_expires_at: timestamp,
});

/** What a judge sees of a review: the task and links to the work; never other judges' votes. */
function present({ review, case: judged, input }: Leased) {
  return {
    id: review.id,
    submission_id: judged.submission_id,
    revision: judged.revision,
    task_type: judged.task_type,
    task: { id: judged.task_id, input },
    submission_url: `/api/v1/submissions/${judged.submission_id}`,
    media: judged.media.map((item) => ({
      media_id: item.media_id,
      kind: item.kind,
      content_url: `/api/v1/media/${item.media_id}/content`,
    })),
    status: review.status,
    lease_expires_at: review.lease_expires_at.toISOString(),
  };
}

function judgeOf(request: Parameters<HttpApp['authenticate']>[0]): Judge {
  const principal = principalOf(request);
  return {
    userId: principal.userId.toLowerCase(),
    role: principal.role,
    isCompanyKey: principal.companyId !== undefined,
  };
}

export function reviewRoutes(app: HttpApp, { db, clock, config, logger, resources }: QcContext): void {
  const judgingRules = { minLevel: config.QC_JUDGE_MIN_LEVEL, minTrust: config.QC_JUDGE_MIN_TRUST };
  const leaseRules = {
    ...judgingRules,
    leaseMs: config.QC_LEASE_MINUTES * 60_000,
    honeypotEvery: config.QC_HONEYPOT_EVERY,
    amongOldest: config.QC_LEASE_AMONG_OLDEST,
    random: resources.random,
  };
  const log = logger.child({ component: 'reviews' });
  const reviewRules = {
    ...judgingRules,
    threshold: config.QC_CONFIDENCE_THRESHOLD,
    onHoneypot: async (trx: typeof db, judgeId: string, now: Date) => {
      await pruneIfInaccurate(trx, judgeId, now, {
        floor: config.QC_ACCURACY_FLOOR,
        minHoneypots: config.QC_PRUNE_MIN_HONEYPOTS,
        rejudgeDays: config.QC_REJUDGE_DAYS,
        threshold: config.QC_CONFIDENCE_THRESHOLD,
        log,
      });
    },
    honeypotFees: { fallbackMs: config.QC_HONEYPOT_FEE_DELAY_SECONDS * 1000, random: resources.random },
  };

  app.get(
    '/api/v1/reviews/next',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Lease the next review you may judge (your open lease if you hold one): the task and links to the work, for a limited time',
        security,
        querystring: z.strictObject({
          type: z.enum(['audio', 'image', 'text', 'validation', 'linguasense', 'rlhf']).optional(),
        }),
        response: { 200: z.object({ review: leasedSchema }) },
      },
    },
    async (request) => {
      const judge = judgeOf(request);
      const leased = await db
        .transaction()
        .execute((trx) => leaseNext(trx, judge, { type: request.query.type }, leaseRules, clock()));
      return { review: present(leased) };
    },
  );

  app.post(
    '/api/v1/reviews/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Submit your review of a leased submission: the verdict, a quality score, reasons and the answer',
        security,
        params: idParams,
        body: z.strictObject({
          verdict,
          quality_score: z.number().min(0).max(1),
          reasons: z.array(reasonCode).max(20).default([]),
          /** The task type's answer: {option}, {preferred}, {labels}. */
          answer: z.record(z.string(), z.unknown()).optional(),
        }),
        response: {
          200: z.object({
            review: z.object({ id: z.uuid(), status: z.literal('submitted'), submitted_at: timestamp }),
          }),
        },
      },
    },
    async (request) => {
      const judge = judgeOf(request);
      const body = request.body;
      const review = await db.transaction().execute((trx) =>
        submitReview(
          trx,
          {
            reviewId: request.params.id,
            judgeId: judge.userId,
            role: judge.role,
            isCompanyKey: judge.isCompanyKey,
            verdict: body.verdict,
            qualityScore: body.quality_score,
            reasonCodes: [...new Set(body.reasons)],
            answer: body.answer,
            now: clock(),
          },
          reviewRules,
          log,
        ),
      );
      return {
        review: {
          id: review.id,
          status: 'submitted' as const,
          submitted_at: review.submitted_at!.toISOString(),
        },
      };
    },
  );

  app.post(
    '/api/v1/reviews/:id/release',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Give a leased review back before submitting it; it returns to the pool at once',
        security,
        params: idParams,
        response: { 200: z.object({ review: z.object({ id: z.uuid(), status: z.literal('released') }) }) },
      },
    },
    async (request) => {
      const judge = judgeOf(request);
      const review = await db
        .transaction()
        .execute((trx) =>
          releaseReview(trx, { reviewId: request.params.id, judgeId: judge.userId, now: clock() }),
        );
      return { review: { id: review.id, status: 'released' as const } };
    },
  );
}
