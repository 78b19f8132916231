import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  claimIdempotencyKey,
  type HttpApp,
  HttpProblem,
  type Principal,
  principalOf,
  recordIdempotentResponse,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { reconcileCampaign } from '../db/campaign-money.ts';
import {
  type CampaignRow,
  type CampaignView,
  closeCampaign,
  countTasks,
  findCampaign,
  hasPendingFunding,
  insertCampaign,
  inviteContributors,
  listCampaigns,
  listInvitations,
  presentCampaign,
  presentInvitation,
  presentStats,
  requestFunding,
  uninvite,
  updateCampaign,
} from '../db/campaigns.ts';
import type { TasksDB } from '../db/schema.ts';
import {
  type CampaignCommand,
  type CommandContext,
  refusalOf,
  refusalStatus,
  scheduleIssues,
} from '../domain/campaign.ts';
import { assertCompanyAccess, type CompanyAccess, companiesOf, companyAccess } from './access.ts';
import {
  bearer,
  campaignListResponse,
  campaignResponse,
  createCampaignBody,
  idempotencyHeaders,
  idParams,
  invitationListResponse,
  invitationsBody,
  listCampaignsQuery,
  pageQuery,
  patchCampaignBody,
  statsResponse,
  tags,
  topUpBody,
  uuidParam,
} from './campaign-schemas.ts';
import { paginate } from './cursor.ts';
import type { RouteDeps } from './deps.ts';

type Db = Kysely<TasksDB>;
type FastifyRequest = Parameters<HttpApp['authenticate']>[0];

const campaignNotFound = () => new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', 'No such campaign.');

/** Contributors never manage campaigns; everyone else is sorted out per company. */
function companyPrincipal(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (principal.role === 'contributor')
    throw new HttpProblem(403, 'FORBIDDEN', 'Campaigns are managed by companies and admins.');
  return principal;
}

/** A campaign the caller may access (404 when it may not even read it: existence is not leaked). */
async function accessCampaign(
  db: Db,
  request: FastifyRequest,
  campaignId: string,
  need: CompanyAccess,
): Promise<{ campaign: CampaignRow; principal: Principal }> {
  const principal = companyPrincipal(request);
  const campaign = await findCampaign(db, campaignId);
  if (!campaign) throw campaignNotFound();
  await assertCompanyAccess(db, principal, campaign.company_id, need, { notFound: campaignNotFound() });
  return { campaign, principal };
}

function assertAllowed(campaign: CampaignRow, command: CampaignCommand, context: CommandContext): void {
  const refusal = refusalOf(campaign, command, context);
  if (refusal) throw new HttpProblem(refusalStatus[refusal.code], refusal.code, refusal.detail);
}

function validationProblem(errors: { path: string; message: string }[]): HttpProblem {
  return new HttpProblem(400, 'VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}

/**
 * Runs a state change on one campaign in a transaction that holds its row (campaign first, then
 * tasks, as everywhere), after the caller's access was checked.
 */
async function withLockedCampaign<T>(
  db: Db,
  campaignId: string,
  change: (trx: Db, campaign: CampaignRow) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const campaign = await findCampaign(trx, campaignId, { lock: true });
    if (!campaign) throw campaignNotFound();
    return change(trx, campaign);
  });
}

const toDate = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

export function campaignRoutes(app: HttpApp, deps: RouteDeps): void {
  const { db } = deps;

  app.post(
    '/api/v1/campaigns',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Draft a campaign for a company (its managers, its API keys with campaigns:write, admins)',
        security: bearer,
        headers: idempotencyHeaders,
        body: createCampaignBody,
        response: { 201: campaignResponse },
      },
    },
    async (request, reply) => {
      const principal = companyPrincipal(request);
      const body = request.body;
      await assertCompanyAccess(db, principal, body.company_id, 'write', {
        notFound: new HttpProblem(404, 'COMPANY_NOT_FOUND', 'No such company, or not yours.'),
      });
      const key = request.headers['idempotency-key'];
      const idempotent = key ? { principalId: principal.userId, operation: 'create-campaign', key } : null;
      const response = await db.transaction().execute(async (trx) => {
        const now = new Date();
        if (idempotent) {
          const earlier = await claimIdempotencyKey(trx, { ...idempotent, body }, now);
          if (earlier) return earlier;
        }
        const campaign = await insertCampaign(trx, {
          id: randomUUID(),
          company_id: body.company_id,
          name: body.name,
          description: body.description,
          currency: body.budget.currency,
          budget_amount: body.budget.amount,
          target_count: body.target_count ?? null,
          start_at: toDate(body.start_at) ?? null,
          end_at: toDate(body.end_at) ?? null,
          is_private: body.is_private,
          status: 'draft',
          pause_reason: null,
          last_funding_error: null,
          funded_amount: 0,
          spent_amount: 0,
          returned_amount: 0,
          reserved_amount: 0,
          owed_amount: 0,
          close_event: null,
          created_by: principal.userId,
          created_at: now,
          updated_at: now,
        });
        await appendToOutbox(trx, [
          buildEvent(
            'tasks.campaign.created.v1',
            {
              campaign_id: campaign.id,
              company_id: campaign.company_id,
              budget: body.budget,
              target_count: campaign.target_count,
              start_at: campaign.start_at?.toISOString() ?? null,
              end_at: campaign.end_at?.toISOString() ?? null,
              is_private: campaign.is_private,
            },
            { subject: campaign.id },
          ),
        ]);
        const created = { status: 201, body: { campaign: presentCampaign(campaign) } };
        if (idempotent) await recordIdempotentResponse(trx, idempotent, created);
        return created;
      });
      return reply.code(201).send(response.body as { campaign: CampaignView });
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
        if (principal.companyId !== undefined && !(await companyAccess(db, principal, mine[0] ?? '', 'read')))
          throw new HttpProblem(403, 'FORBIDDEN', 'This API key lacks the campaigns:read scope.');
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
      const campaign = await withLockedCampaign(db, request.params.id, async (trx, current) => {
        const now = new Date();
        assertAllowed(current, body.budget ? 'edit-budget' : 'edit', { now });
        const startAt = toDate(body.start_at);
        const endAt = toDate(body.end_at);
        const issues = scheduleIssues(
          {
            start_at: startAt === undefined ? current.start_at : startAt,
            end_at: endAt === undefined ? current.end_at : endAt,
          },
          now,
          endAt !== undefined,
        );
        if (issues.length > 0)
          throw validationProblem(
            issues.map((issue) => ({ path: `body.${issue.path}`, message: issue.message })),
          );
        const updated = await updateCampaign(trx, current.id, {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.budget ? { budget_amount: body.budget.amount, currency: body.budget.currency } : {}),
          ...(body.target_count !== undefined ? { target_count: body.target_count } : {}),
          ...(startAt !== undefined ? { start_at: startAt } : {}),
          ...(endAt !== undefined ? { end_at: endAt } : {}),
          ...(body.is_private !== undefined ? { is_private: body.is_private } : {}),
          updated_at: now,
        });
        // A raised target resumes a campaign paused for target_reached; a lowered one may pause it.
        if (updated.target_count !== current.target_count) {
          await reconcileCampaign(trx, current.id);
          return (await findCampaign(trx, current.id)) as CampaignRow;
        }
        return updated;
      });
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
      const campaign = await withLockedCampaign(db, request.params.id, async (trx, current) => {
        const now = new Date();
        assertAllowed(current, 'activate', { now });
        await requestFunding(trx, current, {
          purpose: 'activation',
          amount: Number(current.budget_amount),
          currency: current.currency,
          now,
        });
        return updateCampaign(trx, current.id, { status: 'funding', updated_at: now });
      });
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
      const { amount } = request.body;
      const key = request.headers['idempotency-key'];
      const idempotent = key
        ? { principalId: principal.userId, operation: `top-up:${request.params.id}`, key }
        : null;
      const response = await db.transaction().execute(async (trx) => {
        const now = new Date();
        if (idempotent) {
          const earlier = await claimIdempotencyKey(trx, { ...idempotent, body: request.body }, now);
          if (earlier) return earlier;
        }
        const current = await findCampaign(trx, request.params.id, { lock: true });
        if (!current) throw campaignNotFound();
        assertAllowed(current, 'top-up', { now, currency: amount.currency });
        await requestFunding(trx, current, {
          purpose: 'top_up',
          amount: amount.amount,
          currency: amount.currency,
          now,
        });
        const campaign = await updateCampaign(trx, current.id, { updated_at: now });
        const accepted = { status: 202, body: { campaign: presentCampaign(campaign) } };
        if (idempotent) await recordIdempotentResponse(trx, idempotent, accepted);
        return accepted;
      });
      return reply.code(202).send(response.body as { campaign: CampaignView });
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
      const campaign = await withLockedCampaign(db, request.params.id, async (trx, current) => {
        const now = new Date();
        assertAllowed(current, 'pause', { now });
        const paused = await updateCampaign(trx, current.id, {
          status: 'paused',
          pause_reason: 'manual',
          updated_at: now,
        });
        await appendToOutbox(trx, [
          buildEvent(
            'tasks.campaign.paused.v1',
            { campaign_id: current.id, company_id: current.company_id, reason_code: 'manual' },
            { subject: current.id },
          ),
        ]);
        return paused;
      });
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
      const campaign = await withLockedCampaign(db, request.params.id, async (trx, current) => {
        const now = new Date();
        assertAllowed(current, 'resume', { now });
        await updateCampaign(trx, current.id, { status: 'active', pause_reason: null, updated_at: now });
        await appendToOutbox(trx, [
          buildEvent(
            'tasks.campaign.resumed.v1',
            { campaign_id: current.id, company_id: current.company_id },
            { subject: current.id },
          ),
        ]);
        await reconcileCampaign(trx, current.id);
        return (await findCampaign(trx, current.id)) as CampaignRow;
      });
      return { campaign: presentCampaign(campaign) };
    },
  );

  for (const outcome of ['cancel', 'complete'] as const) {
    app.post(
      `/api/v1/campaigns/:id/${outcome}`,
      {
        preHandler: app.authenticate,
        schema: {
          tags,
          summary:
            outcome === 'cancel'
              ? 'Cancel a campaign: its tasks are archived; what is left returns once promised work is paid'
              : 'Complete a campaign: its tasks close; what is left returns once promised work is paid',
          security: bearer,
          params: idParams,
          response: { 200: campaignResponse },
        },
      },
      async (request) => {
        await accessCampaign(db, request, request.params.id, 'write');
        const campaign = await withLockedCampaign(db, request.params.id, async (trx, current) => {
          const now = new Date();
          assertAllowed(current, outcome, { now, fundingPending: await hasPendingFunding(trx, current.id) });
          return closeCampaign(trx, current, outcome === 'cancel' ? 'cancelled' : 'completed', { now });
        });
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
      await withLockedCampaign(db, request.params.id, async (trx, current) => {
        assertAllowed(current, 'invite', { now: new Date() });
        await inviteContributors(trx, current.id, userIds, principal.userId, new Date());
      });
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
      const { page, next } = paginate(rows, limit, (row) => ({ createdAt: row.created_at, id: row.user_id }));
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
      if (!(await uninvite(db, campaign.id, request.params.userId)))
        throw new HttpProblem(
          404,
          'INVITATION_NOT_FOUND',
          'This contributor is not invited to the campaign.',
        );
      return reply.code(204).send(null);
    },
  );
}
