import {
  assertCompanyAccess,
  cursorParam,
  companyMembershipOf,
  type HttpApp,
  idParams,
  isUuid,
  limitParam,
  orRefuse,
  paginate,
  principalOf,
  refuse,
  requireRole,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { SubmissionsContext } from '../context.ts';
import { submissionStatuses } from '../intake/decide.ts';
import { findSubmission } from '../intake/repository.ts';
import { decideReadSubmission, submissionNotFound, submissionsAccess } from './access.ts';
import { presentForJudge, presentSubmission, submissionSchema } from './present.ts';
import { companyOfCampaign, judgesOf, listSubmissions } from './repository.ts';

const tags = ['submissions'];
const security = [{ bearerAuth: [] }];
const listQuery = z.strictObject({
  status: z.enum(submissionStatuses).optional(),
  cursor: cursorParam.optional(),
  limit: limitParam(20, 100),
});
const listResponse = z.object({ submissions: z.array(submissionSchema), next_cursor: z.string().nullable() });

export function listingRoutes(app: HttpApp, { db, clock }: SubmissionsContext): void {
  const page = async (filter: Parameters<typeof listSubmissions>[1]) => {
    const { page: rows, next } = paginate(await listSubmissions(db, filter), filter.limit);
    return { submissions: rows.map(presentSubmission), next_cursor: next };
  };

  app.get(
    '/api/v1/submissions/me',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Your submissions, newest first',
        security,
        querystring: listQuery,
        response: { 200: listResponse },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (principal.companyId !== undefined || !isUuid(principal.userId))
        return { submissions: [], next_cursor: null };
      const { status, cursor, limit } = request.query;
      return page({ contributorId: principal.userId.toLowerCase(), status, cursor, limit });
    },
  );

  app.get(
    '/api/v1/submissions/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'One submission: its status, reasons, reward and what to do next',
        security,
        params: idParams,
        response: { 200: z.object({ submission: submissionSchema }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const row = await findSubmission(db, request.params.id);
      if (!row) throw submissionNotFound();
      const membership = await companyMembershipOf(db, principal, row.company_id);
      const judgeIds = await judgesOf(db, row.id, clock());
      orRefuse(
        decideReadSubmission(
          principal,
          { contributorId: row.contributor_id, companyId: row.company_id, judgeIds },
          membership,
        ),
      );
      const viewer = principal.userId.toLowerCase();
      const judgeOnly =
        principal.role === 'contributor' && viewer !== row.contributor_id && judgeIds.includes(viewer);
      return { submission: judgeOnly ? presentForJudge(row) : presentSubmission(row) };
    },
  );

  app.get(
    '/api/v1/campaigns/:id/submissions',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A campaign's submissions (the company's members, API keys with submissions:read, admins)",
        security,
        params: z.strictObject({ id: uuidParam }),
        querystring: listQuery,
        response: { 200: listResponse },
      },
    },
    async (request) => {
      const campaignNotFound = refuse.notFound('No such campaign.', 'CAMPAIGN_NOT_FOUND');
      const companyId = await companyOfCampaign(db, request.params.id);
      if (!companyId) throw campaignNotFound;
      await assertCompanyAccess(
        db,
        principalOf(request),
        companyId,
        'read',
        submissionsAccess,
        campaignNotFound,
      );
      const { status, cursor, limit } = request.query;
      return page({ campaignId: request.params.id, status, cursor, limit });
    },
  );

  app.get(
    '/api/v1/admin/submissions',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: 'Every submission, newest first, by status and whether a fraud signal fired (admins)',
        security,
        querystring: listQuery.extend({ flagged: z.stringbool().optional() }),
        response: { 200: listResponse },
      },
    },
    async (request) => {
      const { status, flagged, cursor, limit } = request.query;
      return page({ status, cursor, limit, ...(flagged === undefined ? {} : { flagged }) });
    },
  );
}
