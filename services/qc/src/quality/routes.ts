import {
  assertCompanyAccess,
  type CompanyAccessPolicy,
  type HttpApp,
  idParams,
  principalOf,
  refuse,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { QcContext } from '../context.ts';
import { accuracyOf } from '../judges/decide.ts';
import { noRecord } from '../judges/repository.ts';
import { campaignQuality, judgeEarnings } from './repository.ts';

const security = [{ bearerAuth: [] }];
const money = z.object({ amount: z.number().int(), currency: z.string() });

/** Company members read their campaigns' quality; API keys need `submissions:read`. */
const qualityReaders: CompanyAccessPolicy = {
  readScopes: ['submissions:read'],
  writeScopes: [],
  writeRoles: [],
  writeDetail: 'Quality figures are read-only.',
};

const campaignNotFound = () => refuse.notFound('No such campaign.', 'CAMPAIGN_NOT_FOUND');

export function qualityRoutes(app: HttpApp, { db }: QcContext): void {
  app.get(
    '/api/v1/reviews/me/stats',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['reviews'],
        summary:
          'Your record as a judge: accuracy, agreement with settled verdicts, earnings so far (honeypots are not shown: they must look like any other review)',
        security,
        response: {
          200: z.object({
            stats: z.object({
              accuracy: z.number(),
              reviews_submitted: z.number().int(),
              reviews_counted: z.number().int(),
              agreement: z.number().nullable(),
              removed: z.boolean(),
              earnings: z.array(money),
            }),
          }),
        },
      },
    },
    async (request) => {
      const judgeId = principalOf(request).userId.toLowerCase();
      const judge = await db
        .selectFrom('judges')
        .select(['correct', 'answered', 'honeypot_correct', 'honeypot_answered', 'removed_at'])
        .where('user_id', '=', judgeId)
        .executeTakeFirst();
      const record = judge ?? { ...noRecord, removed_at: null };
      const { submitted, counted, earnings } = await judgeEarnings(db, judgeId);
      const consensusAnswered = record.answered - record.honeypot_answered;
      return {
        stats: {
          accuracy: accuracyOf(record),
          reviews_submitted: submitted,
          reviews_counted: counted,
          agreement:
            consensusAnswered > 0 ? (record.correct - record.honeypot_correct) / consensusAnswered : null,
          removed: record.removed_at !== null,
          earnings,
        },
      };
    },
  );

  app.get(
    '/api/v1/campaigns/:id/quality',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['quality'],
        summary:
          "A campaign's review quality: agreement between judges per task type (Krippendorff's alpha), time to verdict, escalation rate",
        security,
        params: idParams,
        response: {
          200: z.object({
            quality: z.object({
              campaign_id: z.uuid(),
              decided: z.number().int(),
              escalated: z.number().int(),
              escalation_rate: z.number().nullable(),
              by_method: z.record(z.string(), z.number().int()),
              time_to_verdict_s: z.object({ median: z.number().nullable(), p90: z.number().nullable() }),
              judges_per_submission: z.number().nullable(),
              by_task_type: z.array(
                z.object({
                  task_type: z.string(),
                  decided: z.number().int(),
                  /** Null when no submission had two votes, or every vote was the same. */
                  krippendorff_alpha: z.number().nullable(),
                }),
              ),
            }),
          }),
        },
      },
    },
    async (request) => {
      const campaignId = request.params.id;
      const owner = await db
        .selectFrom('tasks')
        .select('company_id')
        .where('campaign_id', '=', campaignId)
        .executeTakeFirst();
      if (!owner) throw campaignNotFound();
      await assertCompanyAccess(
        db,
        principalOf(request),
        owner.company_id,
        'read',
        qualityReaders,
        campaignNotFound(),
      );
      return { quality: await campaignQuality(db, campaignId) };
    },
  );
}
