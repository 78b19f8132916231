import { taskDifficulties, taskTypes } from '@tessera/contracts';
import {
  assertCompanyAccess,
  type HttpApp,
  paginate,
  principalOf,
  refuse,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import { campaignNotFound, findCampaign } from '../campaigns/index.ts';
import type { RouteDeps } from '../context.ts';
import {
  companyView,
  feedTaskSchema,
  feedView,
  listCampaignTasks,
  TASK_STATUSES,
  taskAccess,
  viewForCaller,
} from '../task-catalog/index.ts';
import { decodeFeedCursor, decodeListCursor, encodeListCursor } from './cursor.ts';
import { contributorFeed } from './handle.ts';

/** A non-negative integer in a query string (amounts in minor units). */
const amountQuery = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer amount in minor units')
  .transform(Number);

const listQuery = z
  .strictObject({
    type: z.enum(taskTypes).optional(),
    difficulty: z.enum(taskDifficulties).optional(),
    min_reward: amountQuery.optional(),
    max_reward: amountQuery.optional(),
    cursor: z.string().max(400).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be an integer from 1 to 100')
      .transform(Number)
      .pipe(z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100'))
      .default(20),
    /** Company users, API keys and admins: the campaign whose tasks to list (required for them). */
    campaign_id: uuidParam.optional(),
    /** Company listing only: one status. */
    status: z.enum(TASK_STATUSES).optional(),
  })
  .refine(
    (query) =>
      query.min_reward === undefined ||
      query.max_reward === undefined ||
      query.min_reward <= query.max_reward,
    { message: 'min_reward must not exceed max_reward', path: ['min_reward'] },
  );

const listResponse = z.object({
  tasks: z.array(viewForCaller(feedTaskSchema)),
  next_cursor: z.string().nullable(),
});

const badCursor = () =>
  refuse.invalid('INVALID_CURSOR', 'The cursor is not one this list returned; start again without it.');

export function feedRoutes(app: HttpApp, deps: RouteDeps): void {
  const { db, clock } = deps;

  app.get(
    '/api/v1/tasks',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['tasks', 'feed'],
        summary:
          "Contributors: the feed of tasks they may do now, best first. Companies: one campaign's tasks",
        description:
          'For a contributor, the tasks open to them right now ranked by priority_score (the seed score: ' +
          'priority, then emptier, then richer), ties by id; filters type, difficulty, min_reward, max_reward. ' +
          'Scores change as tasks fill up and are edited, so between two pages a task may move: it can be ' +
          'missed or seen twice; when nothing changes each task is shown exactly once. For company users, ' +
          "their API keys and admins: campaign_id is required and the campaign's tasks are listed newest first.",
        security: [{ bearerAuth: [] }],
        querystring: listQuery,
        response: { 200: listResponse },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const query = request.query;
      const filters = {
        type: query.type,
        difficulty: query.difficulty,
        minReward: query.min_reward,
        maxReward: query.max_reward,
      };

      if (principal.role === 'contributor' && principal.companyId === undefined) {
        if (query.campaign_id !== undefined || query.status !== undefined) {
          throw refuse.invalid(
            'INVALID_QUERY',
            'campaign_id and status list a campaign for its company; the feed takes type, difficulty, min_reward, max_reward, cursor and limit.',
          );
        }
        const after = query.cursor === undefined ? null : decodeFeedCursor(query.cursor);
        if (after === null && query.cursor !== undefined) throw badCursor();
        const started = performance.now();
        const { rows, next } = await contributorFeed(deps.feedDb, {
          contributorId: principal.userId,
          filters,
          after,
          limit: query.limit,
          now: clock(),
        });
        deps.observeFeed?.((performance.now() - started) / 1000);
        return { tasks: rows.map(feedView), next_cursor: next };
      }

      if (query.campaign_id === undefined) {
        throw refuse.invalid(
          'CAMPAIGN_ID_REQUIRED',
          "Say which campaign's tasks to list: ?campaign_id=<uuid>.",
        );
      }
      const after = query.cursor === undefined ? undefined : decodeListCursor(query.cursor);
      if (after === null) throw badCursor();
      const campaign = await findCampaign(db, query.campaign_id);
      if (!campaign) throw campaignNotFound();
      await assertCompanyAccess(db, principal, campaign.company_id, 'read', taskAccess, campaignNotFound());
      const rows = await listCampaignTasks(db, {
        campaignId: campaign.id,
        after,
        limit: query.limit,
        status: query.status,
        ...filters,
      });
      const { page, next } = paginate(rows, query.limit, (last) =>
        encodeListCursor({ at: last.cursor_at, id: last.id }),
      );
      return { tasks: page.map(companyView), next_cursor: next };
    },
  );
}
