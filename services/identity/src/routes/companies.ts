import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  claimIdempotencyKey,
  type CompanyNeed,
  type HttpApp,
  idempotencyHeaders,
  idParams,
  orRefuse,
  principalOf,
  recordIdempotentResponse,
  refuse,
  requireRole,
  safeText,
  uuidParam,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  countActiveApiKeys,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKeyRow,
} from '../db/api-keys.ts';
import {
  companiesOf,
  type CompanyRow,
  deleteMember,
  findCompany,
  findMembership,
  insertCompany,
  listMembers,
  type MemberRow,
  upsertMember,
} from '../db/companies.ts';
import type { IdentityDB } from '../db/schema.ts';
import { findUserById } from '../db/users.ts';
import {
  companyNotFound,
  decideCompanyRights,
  lastManagerOf,
  leavesNoManager,
  memberRoles,
} from '../domain/access.ts';
import {
  API_KEY_SCOPES,
  displayPrefix,
  generateApiKey,
  MAX_ACTIVE_KEYS_PER_COMPANY,
} from '../domain/api-keys.ts';
import type { Identity } from '../runtime.ts';
import { accountGone, accountSuspended, type FastifyRequest, userPrincipal } from './guards.ts';
import { bearer, httpUrl, name } from './schemas.ts';

const tags = ['companies'];

const companySchema = z.object({
  id: z.string(),
  name: z.string(),
  logo_url: z.string().nullable(),
  billing_status: z.enum(['pending', 'active', 'past_due', 'suspended']),
  created_at: z.string(),
  updated_at: z.string(),
  /** The caller's member role; null for an admin or an API key. */
  my_role: z.enum(memberRoles).nullable(),
});

export const memberSchema = z.object({
  user_id: z.string(),
  member_role: z.enum(memberRoles),
  email: z.string().nullable(),
  full_name: z.string().nullable(),
  added_at: z.string(),
});

const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

function presentCompany(company: CompanyRow, myRole: z.infer<typeof companySchema>['my_role']) {
  return {
    id: company.id,
    name: company.name,
    logo_url: company.logo_url,
    billing_status: company.billing_status,
    created_at: company.created_at.toISOString(),
    updated_at: company.updated_at.toISOString(),
    my_role: myRole,
  };
}

export function presentMember(member: MemberRow) {
  return {
    user_id: member.user_id,
    member_role: member.member_role,
    email: member.email,
    full_name: member.full_name,
    added_at: member.added_at.toISOString(),
  };
}

function presentApiKey(key: ApiKeyRow) {
  return {
    id: key.id,
    name: key.name,
    prefix: displayPrefix(key.prefix),
    scopes: key.scopes,
    created_at: key.created_at.toISOString(),
    last_used_at: key.last_used_at?.toISOString() ?? null,
    revoked_at: key.revoked_at?.toISOString() ?? null,
  };
}

const lastManager = () => lastManagerOf();

/**
 * The company, when the caller may do what `need` says to it (else 404 to whoever may not see
 * it: its existence is not disclosed; 403 to a member who may only read), and their role in it.
 */
export async function companyAccess(
  identity: Identity,
  request: FastifyRequest,
  companyId: string,
  need: CompanyNeed,
) {
  const principal = principalOf(request);
  const [company, membership] = await Promise.all([
    findCompany(identity.db, companyId),
    principal.companyId === undefined ? findMembership(identity.db, companyId, principal.userId) : undefined,
  ]);
  if (!company) throw companyNotFound();
  orRefuse(decideCompanyRights(principal, companyId, membership, need));
  return { company, myRole: membership?.memberRole ?? null };
}

/**
 * The same decision again inside a change's transaction, on what the members lock shows: every
 * member change of a company takes that lock (`listMembers` with `lock`), so a manager demoted or
 * removed since `companyAccess` changes nothing (403 `COMPANY_MANAGER_REQUIRED` / 404
 * `COMPANY_NOT_FOUND`, as there). Returns the members, locked.
 *
 * The caller's account row is locked first (key share: the lock the foreign-key check of an API
 * key or invitation they create takes anyway), in the order erasure and acceptance take theirs:
 * the account, then the company's members. Taken after the members lock, as that check did, it
 * crossed an erasure of the same account (which holds the account and waits for the members):
 * a deadlock. An account erased or suspended while the change waited changes nothing (401 / 403).
 */
export async function lockedCompanyAccess(
  trx: Kysely<IdentityDB>,
  request: FastifyRequest,
  companyId: string,
  need: CompanyNeed,
): Promise<MemberRow[]> {
  const principal = principalOf(request);
  if (principal.companyId === undefined) {
    const account = await findUserById(trx, principal.userId, { forKeyShare: true });
    if (!account || account.status === 'erased') throw accountGone();
    if (account.status === 'suspended') throw accountSuspended();
  }
  const members = await listMembers(trx, companyId, { lock: true });
  const mine =
    principal.companyId === undefined ? members.find((m) => m.user_id === principal.userId) : undefined;
  orRefuse(decideCompanyRights(principal, companyId, mine && { memberRole: mine.member_role }, need));
  return members;
}

export function registerCompanyRoutes(app: HttpApp, identity: Identity): void {
  const { db } = identity;
  const access = (request: FastifyRequest, companyId: string, need: CompanyNeed) =>
    companyAccess(identity, request, companyId, need);

  app.post(
    '/api/v1/companies',
    {
      preHandler: requireRole('company', 'admin'),
      schema: {
        tags,
        summary: 'Create a company; its creator becomes its first manager',
        security: bearer,
        headers: idempotencyHeaders,
        body: z.strictObject({ name, logo_url: httpUrl.nullable().optional() }),
        response: { 201: z.object({ company: companySchema }) },
      },
    },
    async (request, reply) => {
      const principal = userPrincipal(request);
      const key = request.headers['idempotency-key'];
      const idempotent = key && { principalId: principal.userId, operation: 'create-company', key };
      const response = await db.transaction().execute(async (trx) => {
        // The creator's account is locked first (key share, the lock the foreign-key checks of
        // the company and its first member take anyway) and its status decided under that lock,
        // as `lockedCompanyAccess` does: an account erased or suspended while the creation waited
        // manages no new company (401 / 403).
        const me = await findUserById(trx, principal.userId, { forKeyShare: true });
        if (!me || me.status === 'erased') throw accountGone();
        if (me.status !== 'active') throw accountSuspended();
        const now = identity.clock();
        if (idempotent) {
          const earlier = await claimIdempotencyKey(trx, { ...idempotent, body: request.body }, now);
          if (earlier) return earlier;
        }
        const company = await insertCompany(trx, {
          id: randomUUID(),
          name: request.body.name,
          logo_url: request.body.logo_url ?? null,
          billing_status: 'pending',
          created_by: me.id,
          created_at: now,
          updated_at: now,
        });
        await upsertMember(trx, {
          company_id: company.id,
          user_id: me.id,
          member_role: 'manager',
          added_by: me.id,
          added_at: now,
        });
        await appendToOutbox(trx, [
          buildEvent(
            'identity.company.created.v1',
            { company_id: company.id, name: company.name, created_by: me.id },
            { subject: company.id },
          ),
          buildEvent(
            'identity.company.member-added.v1',
            { company_id: company.id, user_id: me.id, member_role: 'manager' },
            { subject: company.id },
          ),
        ]);
        const created = { status: 201, body: { company: presentCompany(company, 'manager') } };
        if (idempotent) await recordIdempotentResponse(trx, idempotent, created);
        return created;
      });
      // A replay answers exactly what the first request did (a creation: always 201).
      return reply.code(201).send(response.body as { company: z.infer<typeof companySchema> });
    },
  );

  app.get(
    '/api/v1/companies',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'The companies the bearer is a member of',
        security: bearer,
        response: { 200: z.object({ companies: z.array(companySchema) }) },
      },
    },
    async (request) => {
      const principal = userPrincipal(request);
      const rows = await companiesOf(db, principal.userId);
      return { companies: rows.map((row) => presentCompany(row, row.member_role)) };
    },
  );

  app.get(
    '/api/v1/companies/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'A company, to its members (and its API keys with the company:read scope)',
        security: bearer,
        params: idParams,
        response: { 200: z.object({ company: companySchema }) },
      },
    },
    async (request) => {
      const { company, myRole } = await access(request, request.params.id, 'read');
      return { company: presentCompany(company, myRole) };
    },
  );

  app.get(
    '/api/v1/companies/:id/members',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A company's members",
        security: bearer,
        params: idParams,
        response: { 200: z.object({ members: z.array(memberSchema) }) },
      },
    },
    async (request) => {
      await access(request, request.params.id, 'read');
      userPrincipal(request);
      return { members: (await listMembers(db, request.params.id)).map(presentMember) };
    },
  );

  app.post(
    '/api/v1/companies/:id/members',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "Change a current member's role (managers only); people join by invitation",
        security: bearer,
        params: idParams,
        body: z.strictObject({ user_id: uuidParam, member_role: z.enum(memberRoles) }),
        response: { 200: z.object({ member: memberSchema }) },
      },
    },
    async (request, reply) => {
      const companyId = request.params.id;
      const me = userPrincipal(request);
      await access(request, companyId, 'write');
      const { user_id: userId, member_role } = request.body;
      const member = await db.transaction().execute(async (trx) => {
        const members = await lockedCompanyAccess(trx, request, companyId, 'write');
        const existing = members.find((m) => m.user_id === userId);
        if (!existing) {
          throw refuse.notFound(
            'This account is not a member of the company; invite it.',
            'MEMBER_NOT_FOUND',
          );
        }
        if (existing.member_role === member_role) return existing;
        const current = members.map((m) => ({ userId: m.user_id, memberRole: m.member_role }));
        if (leavesNoManager(current, userId, member_role)) {
          throw lastManager();
        }
        await upsertMember(trx, {
          company_id: companyId,
          user_id: userId,
          member_role,
          added_by: me.userId,
          added_at: identity.clock(),
        });
        await appendToOutbox(trx, [
          buildEvent(
            'identity.company.member-added.v1',
            { company_id: companyId, user_id: userId, member_role },
            { subject: companyId },
          ),
        ]);
        const after = await listMembers(trx, companyId);
        return after.find((m) => m.user_id === userId)!;
      });
      return reply.code(200).send({ member: presentMember(member) });
    },
  );

  app.delete(
    '/api/v1/companies/:id/members/:userId',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Remove a member (managers; any member may leave)',
        security: bearer,
        params: z.object({ id: uuidParam, userId: uuidParam }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const { id: companyId, userId } = request.params;
      const me = userPrincipal(request);
      // Any member may leave; removing someone else is a manager's.
      const need = userId === me.userId ? 'read' : 'write';
      await access(request, companyId, need);
      await db.transaction().execute(async (trx) => {
        const members = await lockedCompanyAccess(trx, request, companyId, need);
        if (!members.some((m) => m.user_id === userId)) {
          throw refuse.notFound('This account is not a member of the company.', 'MEMBER_NOT_FOUND');
        }
        const current = members.map((m) => ({ userId: m.user_id, memberRole: m.member_role }));
        if (leavesNoManager(current, userId, undefined)) {
          throw lastManager();
        }
        await deleteMember(trx, companyId, userId);
        await appendToOutbox(trx, [
          buildEvent(
            'identity.company.member-removed.v1',
            { company_id: companyId, user_id: userId },
            { subject: companyId },
          ),
        ]);
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/companies/:id/api-keys',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A company's API keys, without their secrets (managers only)",
        security: bearer,
        params: idParams,
        response: { 200: z.object({ api_keys: z.array(apiKeySchema) }) },
      },
    },
    async (request) => {
      await access(request, request.params.id, 'write');
      return { api_keys: (await listApiKeys(db, request.params.id)).map(presentApiKey) };
    },
  );

  app.post(
    '/api/v1/companies/:id/api-keys',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Create an API key; its secret is in this response only (managers only)',
        security: bearer,
        params: idParams,
        body: z.strictObject({
          name: safeText(100).min(1),
          scopes: z
            .array(z.enum(API_KEY_SCOPES))
            .min(1)
            .max(API_KEY_SCOPES.length)
            .refine((s) => new Set(s).size === s.length, { error: 'scopes repeat' }),
        }),
        response: { 201: z.object({ api_key: apiKeySchema, secret: z.string() }) },
      },
    },
    async (request, reply) => {
      const companyId = request.params.id;
      const me = userPrincipal(request);
      await access(request, companyId, 'write');
      const generated = generateApiKey();
      const row = await db.transaction().execute(async (trx) => {
        await lockedCompanyAccess(trx, request, companyId, 'write');
        if ((await countActiveApiKeys(trx, companyId)) >= MAX_ACTIVE_KEYS_PER_COMPANY) {
          throw refuse.conflict(
            'TOO_MANY_API_KEYS',
            `A company has at most ${MAX_ACTIVE_KEYS_PER_COMPANY} active keys; revoke one first.`,
          );
        }
        return insertApiKey(trx, {
          id: randomUUID(),
          company_id: companyId,
          name: request.body.name,
          prefix: generated.prefix,
          key_hash: generated.hash,
          scopes: request.body.scopes,
          created_by: me.userId,
          created_at: identity.clock(),
          last_used_at: null,
          revoked_at: null,
        });
      });
      return reply.code(201).send({ api_key: presentApiKey(row), secret: generated.key });
    },
  );

  app.delete(
    '/api/v1/companies/:id/api-keys/:keyId',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Revoke an API key; tokens already issued to it stop working everywhere within a second',
        security: bearer,
        params: z.object({ id: uuidParam, keyId: uuidParam }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const { id: companyId, keyId } = request.params;
      await access(request, companyId, 'write');
      const ttlS = identity.config.ACCESS_TOKEN_TTL_S;
      const key = await db.transaction().execute(async (trx) => {
        await lockedCompanyAccess(trx, request, companyId, 'write');
        return revokeApiKey(trx, companyId, keyId, identity.clock(), ttlS);
      });
      if (!key) throw refuse.notFound('No such API key in this company.', 'API_KEY_NOT_FOUND');
      return reply.code(204).send(null);
    },
  );
}
