import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  type CompanyNeed,
  type HttpApp,
  idParams,
  orRefuse,
  refuse,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import { listMembers, upsertMember } from '../db/companies.ts';
import {
  companyOfInvitation,
  countInvitationsTo,
  countOpenInvitations,
  insertInvitation,
  listOpenInvitations,
  lockInvitationByToken,
  markAccepted,
  type OpenInvitationRow,
  revokeInvitation,
} from '../db/invitations.ts';
import { lastManagerOf, leavesNoManager, memberRoles } from '../domain/access.ts';
import {
  decideAcceptance,
  INVITATION_TTL_S,
  MAX_INVITATIONS_PER_ADDRESS_PER_DAY,
  MAX_OPEN_INVITATIONS_PER_COMPANY,
} from '../domain/invitations.ts';
import { randomSecret, sha256Hex } from '../domain/secrets.ts';
import { mailFailure } from '../mail/mailer.ts';
import { invitationMail } from '../mail/messages.ts';
import type { Identity } from '../runtime.ts';
import { companyAccess, lockedCompanyAccess, memberSchema, presentMember } from './companies.ts';
import { findUserById } from '../db/users.ts';
import { accountGone, type FastifyRequest, userPrincipal } from './guards.ts';
import { bearer, email } from './schemas.ts';

const tags = ['companies'];

const invitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  member_role: z.enum(memberRoles),
  created_at: z.string(),
  expires_at: z.string(),
});

function presentInvitation(row: OpenInvitationRow) {
  return {
    id: row.id,
    email: row.email,
    member_role: row.member_role,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
  };
}

/**
 * Members join by consent: a manager invites an address (the answer is the same whether an account
 * has it or not, and no account is looked up), identity mails the invitation there, and the person
 * accepts it logged in as a company account whose verified address it is. Only acceptance makes a
 * member and publishes `identity.company.member-added.v1`.
 */
export function registerInvitationRoutes(app: HttpApp, identity: Identity): void {
  const { db } = identity;
  const access = (request: FastifyRequest, companyId: string, need: CompanyNeed) =>
    companyAccess(identity, request, companyId, need);

  app.post(
    '/api/v1/companies/:id/invitations',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Invite an address to join as a member (managers); mailed there, nothing disclosed (409 TOO_MANY_INVITATIONS, TOO_MANY_INVITATIONS_TO_ADDRESS)',
        security: bearer,
        params: idParams,
        body: z.strictObject({ email, member_role: z.enum(memberRoles) }),
        response: { 202: z.object({ invitation: invitationSchema }) },
      },
    },
    async (request, reply) => {
      const companyId = request.params.id;
      const me = userPrincipal(request);
      const { company } = await access(request, companyId, 'write');
      const token = randomSecret(32);
      const now = identity.clock();
      const invitation = await db.transaction().execute(async (trx) => {
        await lockedCompanyAccess(trx, request, companyId, 'write');
        if ((await countOpenInvitations(trx, companyId, now)) >= MAX_OPEN_INVITATIONS_PER_COMPANY) {
          throw refuse.conflict(
            'TOO_MANY_INVITATIONS',
            `A company has at most ${MAX_OPEN_INVITATIONS_PER_COMPANY} open invitations; revoke one first.`,
          );
        }
        const dayAgo = new Date(now.getTime() - 86_400_000);
        if (
          (await countInvitationsTo(trx, companyId, request.body.email, dayAgo)) >=
          MAX_INVITATIONS_PER_ADDRESS_PER_DAY
        ) {
          throw refuse.conflict(
            'TOO_MANY_INVITATIONS_TO_ADDRESS',
            `A company invites one address at most ${MAX_INVITATIONS_PER_ADDRESS_PER_DAY} times in 24 hours; try again later.`,
          );
        }
        return insertInvitation(trx, {
          id: randomUUID(),
          company_id: companyId,
          email: request.body.email,
          member_role: request.body.member_role,
          token_hash: sha256Hex(token),
          invited_by: me.userId,
          created_at: now,
          expires_at: new Date(now.getTime() + INVITATION_TTL_S * 1000),
          accepted_at: null,
          accepted_by: null,
          revoked_at: null,
        });
      });
      const link = new URL('/invitations/accept', identity.config.PUBLIC_APP_URL);
      link.searchParams.set('token', token);
      try {
        await identity.mailer.send(
          invitationMail(invitation.email, {
            company: company.name,
            memberRole: invitation.member_role,
            link: link.toString(),
            token,
            ttlDays: INVITATION_TTL_S / 86_400,
          }),
        );
      } catch (error) {
        // The invitation stands; the manager can revoke it and invite again. The error names
        // the recipient: only its codes and a cleaned message are logged.
        identity.logger.error({ mail_error: mailFailure(error) }, 'invitation mail could not be sent');
      }
      return reply.code(202).send({ invitation: presentInvitation(invitation) });
    },
  );

  app.get(
    '/api/v1/companies/:id/invitations',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A company's open invitations (managers)",
        security: bearer,
        params: idParams,
        response: { 200: z.object({ invitations: z.array(invitationSchema) }) },
      },
    },
    async (request) => {
      await access(request, request.params.id, 'write');
      const rows = await listOpenInvitations(db, request.params.id, identity.clock());
      return { invitations: rows.map(presentInvitation) };
    },
  );

  app.delete(
    '/api/v1/companies/:id/invitations/:invitationId',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Revoke an open invitation (managers)',
        security: bearer,
        params: z.object({ id: uuidParam, invitationId: uuidParam }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const { id: companyId, invitationId } = request.params;
      await access(request, companyId, 'write');
      const revoked = await db.transaction().execute(async (trx) => {
        await lockedCompanyAccess(trx, request, companyId, 'write');
        return revokeInvitation(trx, companyId, invitationId, identity.clock());
      });
      if (!revoked) throw refuse.notFound('No such open invitation in this company.', 'INVITATION_NOT_FOUND');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/invitations/accept',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "Accept an invitation mailed to the bearer's verified address: join the company",
        security: bearer,
        body: z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not an invitation code') }),
        response: { 201: z.object({ company_id: z.string(), member: memberSchema }) },
      },
    },
    async (request, reply) => {
      const me = userPrincipal(request);
      const tokenHash = sha256Hex(request.body.token);
      const result = await db.transaction().execute(async (trx) => {
        // The account is read under its row lock, which suspension and erasure take too: one
        // suspended or erased since its token was issued joins nothing. Locks in the order the
        // others take them: the account, then the company's members (as member changes and
        // revocations of invitations do), then the invitation.
        const user = await findUserById(trx, me.userId, { forNoKeyUpdate: true });
        if (!user || user.status === 'erased') throw accountGone();
        const company = await companyOfInvitation(trx, tokenHash);
        const members = company ? await listMembers(trx, company, { lock: true }) : [];
        const invitation = company ? await lockInvitationByToken(trx, tokenHash) : undefined;
        const now = identity.clock();
        const { memberRole } = orRefuse(
          decideAcceptance(
            invitation && {
              email: invitation.email,
              memberRole: invitation.member_role,
              expiresAt: invitation.expires_at,
              acceptedAt: invitation.accepted_at,
              revokedAt: invitation.revoked_at,
            },
            {
              email: user.email,
              emailVerified: user.email_verified_at !== null,
              role: user.role,
              status: user.status,
            },
            now,
          ),
        );
        const { company_id: companyId, invited_by: invitedBy, id } = invitation!;
        const current = members.map((m) => ({ userId: m.user_id, memberRole: m.member_role }));
        if (leavesNoManager(current, user.id, memberRole)) throw lastManagerOf();
        await upsertMember(trx, {
          company_id: companyId,
          user_id: user.id,
          member_role: memberRole,
          added_by: invitedBy,
          added_at: now,
        });
        await markAccepted(trx, id, user.id, now);
        await appendToOutbox(trx, [
          buildEvent(
            'identity.company.member-added.v1',
            { company_id: companyId, user_id: user.id, member_role: memberRole },
            { subject: companyId },
          ),
        ]);
        const after = await listMembers(trx, companyId);
        return { companyId, member: after.find((m) => m.user_id === user.id)! };
      });
      return reply.code(201).send({ company_id: result.companyId, member: presentMember(result.member) });
    },
  );
}
