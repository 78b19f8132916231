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
import { noRecord } from '../judges/repository.ts';
import { judgeStatsAsOf, type KeptRecord, statsCutoff } from './decide.ts';
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

export function qualityRoutes(app: HttpApp, { db, clock }: QcContext): void {
  app.get(
    '/api/v1/reviews/me/stats',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['reviews'],
        summary:
          'Your record as a judge as of the start of the current day (UTC): accuracy, agreement with settled verdicts, earnings (every review counted, whatever it was)',
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
      const now = clock();
      const judge = await db
        .selectFrom('judges')
        .select([
          'correct',
          'answered',
          'honeypot_correct',
          'honeypot_answered',
          'record_day',
          'day_start_correct',
          'day_start_answered',
          'day_start_honeypot_correct',
          'day_start_honeypot_answered',
          'removed_at',
        ])
        .where('user_id', '=', judgeId)
        .executeTakeFirst();
      const kept: KeptRecord = judge
        ? {
            current: judge,
            recordDay: judge.record_day,
            dayStart: {
              correct: judge.day_start_correct,
              answered: judge.day_start_answered,
              honeypot_correct: judge.day_start_honeypot_correct,
              honeypot_answered: judge.day_start_honeypot_answered,
            },
          }
        : { current: noRecord, recordDay: null, dayStart: noRecord };
      const reviews = await judgeEarnings(db, judgeId, statsCutoff(now));
      return { stats: judgeStatsAsOf(kept, reviews, (judge?.removed_at ?? null) !== null, now) };
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
