import {
  assertCompanyAccess,
  type CompanyNeed,
  decideCompanyAccess,
  encodeCursor,
  type HttpApp,
  idempotencyHeaders,
  idParams,
  paginate,
  type Principal,
  principalOf,
  refusal,
  refuse,
  runOnce,
  uuidParam,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { RouteDeps } from '../context.ts';
import type { TasksDB } from '../db/schema.ts';
import { campaignAccess } from './access.ts';
import {
  activateCampaign,
  campaignNotFound,
  draftCampaign,
  editCampaign,
  endCampaign,
  inviteToCampaign,
  pauseCampaign,
  resumeCampaign,
  topUpCampaign,
  withdrawInvitation,
} from './handle.ts';
import { presentCampaign, presentInvitation, presentStats } from './present.ts';
import {
  type CampaignRecord,
  companiesOf,
  countTasks,
  findCampaign,
  listCampaigns,
  listInvitations,
} from './repository.ts';
import {
  bearer,
  campaignListResponse,
  campaignResponse,
  createCampaignBody,
  invitationListResponse,
  invitationsBody,
  listCampaignsQuery,
  pageQuery,
  patchCampaignBody,
  statsResponse,
  tags,
  topUpBody,
} from './schemas.ts';

type FastifyRequest = Parameters<HttpApp['authenticate']>[0];

/** Contributors never manage campaigns; everyone else is sorted out per company. */
function companyPrincipal(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (principal.role === 'contributor')
    throw refuse.forbidden('Campaigns are managed by companies and admins.');
  return principal;
}

/** A campaign the caller may access (404 when it may not even read it: existence is not leaked). */
async function accessCampaign(
  db: Kysely<TasksDB>,
  request: FastifyRequest,
  campaignId: string,
  need: CompanyNeed,
): Promise<{ campaign: CampaignRecord; principal: Principal }> {
  const principal = companyPrincipal(request);
  const campaign = await findCampaign(db, campaignId);
  if (!campaign) throw campaignNotFound();
  await assertCompanyAccess(db, principal, campaign.company_id, need, campaignAccess, campaignNotFound());
  return { campaign, principal };
}

const toDate = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

export function campaignRoutes(app: HttpApp, deps: RouteDeps): void {
  const { db, clock } = deps;
  const inTransaction = <T>(work: (trx: Kysely<TasksDB>) => Promise<T>) => db.transaction().execute(work);

  app.post(
    '/api/v1/campaigns',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Draft a campaign for a company (its managers, its API keys with campaigns:write, admins)',
        security: bearer,
        headers: idempotencyHeaders,
        body: createCampaignBody(clock),
        response: { 201: campaignResponse },
      },
    },
    async (request, reply) => {
      const principal = companyPrincipal(request);
      const body = request.body;
      await assertCompanyAccess(
        db,
        principal,
        body.company_id,
        'write',
        campaignAccess,
        refusal('not_found', 'COMPANY_NOT_FOUND', 'No such company, or not yours.'),
      );
      const now = clock();
      const call = {
        principalId: principal.userId,
        operation: 'create-campaign',
        key: request.headers['idempotency-key'],
        body,
      };
      const created = await runOnce(db, call, now, 201, async (trx) => {
        const campaign = await draftCampaign(
          trx,
          {
            companyId: body.company_id,
            createdBy: principal.userId,
            name: body.name,
            description: body.description,
            budget: body.budget,
            targetCount: body.target_count ?? null,
            startAt: toDate(body.start_at) ?? null,
            endAt: toDate(body.end_at) ?? null,
            isPrivate: body.is_private,
            judgeFee: body.judge_fee?.amount ?? 0,
          },
          now,
        );
        return { campaign: presentCampaign(campaign) };
      });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/campaigns',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          "Campaigns, newest first: a company user's companies', an API key's company's, or all (admins)",
        security: bearer,
        querystring: listCampaignsQuery,
        response: { 200: campaignListResponse },
      },
    },
    async (request) => {
      const principal = companyPrincipal(request);
      const { company_id, status, cursor, limit } = request.query;
      let companyIds: string[] | undefined;
      if (principal.role === 'admin' && principal.companyId === undefined) {
        companyIds = company_id ? [company_id] : undefined;
      } else {
        const mine = await companiesOf(db, principal);
        const keyMayRead = decideCompanyAccess(
          principal,
          mine[0] ?? '',
          null,
          'read',
          campaignAccess,
          campaignNotFound(),
        );
        if (principal.companyId !== undefined && !keyMayRead.ok)
          throw refuse.forbidden('This API key lacks the campaigns:read scope.');
        companyIds = company_id ? mine.filter((id) => id === company_id) : mine;
      }
      const rows = await listCampaigns(db, {
        ...(companyIds ? { companyIds } : {}),
        ...(status ? { status } : {}),
        ...(cursor ? { after: cursor } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit);
      return { campaigns: page.map(presentCampaign), next_cursor: next };
    },
  );

  app.get(
    '/api/v1/campaigns/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'A campaign',
        security: bearer,
        params: idParams,
        response: { 200: campaignResponse },
      },
    },
    async (request) => {
      const { campaign } = await accessCampaign(db, request, request.params.id, 'read');
      return { campaign: presentCampaign(campaign) };
    },
  );

  app.patch(
    '/api/v1/campaigns/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Change a campaign: its name, description, target, schedule and privacy until it closes; its budget only as a draft',
        security: bearer,
        params: idParams,
        body: patchCampaignBody,
        response: { 200: campaignResponse },
      },
    },
    async (request) => {
      await accessCampaign(db, request, request.params.id, 'write');
      const body = request.body;
      const edit = {
        name: body.name,
        description: body.description,
        budget: body.budget,
        targetCount: body.target_count,
        startAt: toDate(body.start_at),
        endAt: toDate(body.end_at),
        isPrivate: body.is_private,
        judgeFee: body.judge_fee,
      };
      const campaign = await inTransaction((trx) => editCampaign(trx, request.params.id, edit, clock()));
      return { campaign: presentCampaign(campaign) };
    },
  );

  app.post(
    '/api/v1/campaigns/:id/activate',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          "Ask the ledger to fund a draft's budget; the campaign is active once the ledger answers funded",
        security: bearer,
        params: idParams,
        response: { 202: campaignResponse },
      },
    },
    async (request, reply) => {
      await accessCampaign(db, request, request.params.id, 'write');
      const campaign = await inTransaction((trx) => activateCampaign(trx, request.params.id, clock()));
      return reply.code(202).send({ campaign: presentCampaign(campaign) });
    },
  );

  app.post(
    '/api/v1/campaigns/:id/top-up',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "Ask the ledger to add to a running campaign's budget",
        security: bearer,
        headers: idempotencyHeaders,
        params: idParams,
        body: topUpBody,
        response: { 202: campaignResponse },
      },
    },
    async (request, reply) => {
      const { principal } = await accessCampaign(db, request, request.params.id, 'write');
      const now = clock();
      const call = {
        principalId: principal.userId,
        operation: `top-up:${request.params.id}`,
        key: request.headers['idempotency-key'],
        body: request.body,
      };
      const accepted = await runOnce(db, call, now, 202, async (trx) => ({
        campaign: presentCampaign(await topUpCampaign(trx, request.params.id, request.body.amount, now)),
      }));
      return reply.code(202).send(accepted);
    },
  );

  app.post(
    '/api/v1/campaigns/:id/pause',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Stop taking claims until resumed by hand (claims already made may still be submitted)',
        security: bearer,
        params: idParams,
        response: { 200: campaignResponse },
      },
    },
    async (request) => {
      await accessCampaign(db, request, request.params.id, 'write');
      const campaign = await inTransaction((trx) => pauseCampaign(trx, request.params.id, clock()));
      return { campaign: presentCampaign(campaign) };
    },
  );

  app.post(
    '/api/v1/campaigns/:id/resume',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Take claims again; a campaign whose budget cannot pay the next reward, or whose target is met, pauses again at once',
        security: bearer,
        params: idParams,
        response: { 200: campaignResponse },
      },
    },
    async (request) => {
      await accessCampaign(db, request, request.params.id, 'write');
      const campaign = await inTransaction((trx) => resumeCampaign(trx, request.params.id, clock()));
      return { campaign: presentCampaign(campaign) };
    },
  );

  for (const command of ['cancel', 'complete'] as const) {
    app.post(
      `/api/v1/campaigns/:id/${command}`,
      {
        preHandler: app.authenticate,
        schema: {
          tags,
          summary:
            command === 'cancel'
              ? 'Cancel a campaign: its tasks are archived; what is left returns once promised work is paid'
              : 'Complete a campaign: its tasks close; what is left returns once promised work is paid',
          security: bearer,
          params: idParams,
          response: { 200: campaignResponse },
        },
      },
      async (request) => {
        await accessCampaign(db, request, request.params.id, 'write');
        const campaign = await inTransaction((trx) => endCampaign(trx, request.params.id, command, clock()));
        return { campaign: presentCampaign(campaign) };
      },
    );
  }

  app.get(
    '/api/v1/campaigns/:id/stats',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A campaign's progress and money",
        security: bearer,
        params: idParams,
        response: { 200: statsResponse },
      },
    },
    async (request) => {
      const { campaign } = await accessCampaign(db, request, request.params.id, 'read');
      return presentStats(campaign, await countTasks(db, campaign.id));
    },
  );

  app.post(
    '/api/v1/campaigns/:id/invitations',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Invite contributors to a private campaign (inviting again changes nothing)',
        security: bearer,
        params: idParams,
        body: invitationsBody,
        response: { 200: z.object({ invited: z.number().int() }) },
      },
    },
    async (request) => {
      const { principal } = await accessCampaign(db, request, request.params.id, 'write');
      const userIds = [...new Set(request.body.user_ids)];
      await inTransaction((trx) =>
        inviteToCampaign(trx, request.params.id, { userIds, invitedBy: principal.userId }, clock()),
      );
      return { invited: userIds.length };
    },
  );

  app.get(
    '/api/v1/campaigns/:id/invitations',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A campaign's invited contributors, newest first",
        security: bearer,
        params: idParams,
        querystring: pageQuery,
        response: { 200: invitationListResponse },
      },
    },
    async (request) => {
      const { campaign } = await accessCampaign(db, request, request.params.id, 'read');
      const { cursor, limit } = request.query;
      const rows = await listInvitations(db, campaign.id, {
        ...(cursor ? { after: cursor } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit, (row) =>
        encodeCursor({ createdAt: row.created_at, id: row.user_id }),
      );
      return { invitations: page.map(presentInvitation), next_cursor: next };
    },
  );

  app.delete(
    '/api/v1/campaigns/:id/invitations/:userId',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Withdraw an invitation',
        security: bearer,
        params: z.strictObject({ id: uuidParam, userId: uuidParam }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const { campaign } = await accessCampaign(db, request, request.params.id, 'write');
      await inTransaction((trx) => withdrawInvitation(trx, campaign.id, request.params.userId));
      return reply.code(204).send(null);
    },
  );
}
