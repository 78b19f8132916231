import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, reasonCode } from '../schemas.ts';

const role = z.enum(['contributor', 'company', 'admin']);
const memberRole = z.enum(['manager', 'viewer', 'billing']);
/** ISO 3166-1 alpha-2 country and BCP 47 language tags: what eligibility needs, nothing personal. */
const country = z
  .string()
  .regex(/^[A-Z]{2}$/)
  .nullable();
const languages = z.array(z.string().min(2).max(35)).max(50);

/**
 * Identity: accounts and companies. Events never carry an email, a name or a password; services
 * that need eligibility data (role, country, languages, status) build read models from these.
 */
export const identityEvents = [
  defineEvent('identity.user.registered.v1', {
    description: 'An account was created by signup or by the admin bootstrap.',
    data: z.object({
      user_id: entityId,
      role,
      country,
      languages,
      /** The referral code the user signed up with, as typed (engagement owns codes and checks it). */
      referral_code: z
        .string()
        .regex(/^[A-Z0-9]{4,16}$/)
        .optional(),
    }),
  }),
  defineEvent('identity.user.profile-updated.v1', {
    description: 'The eligibility-relevant part of a profile, as it now stands.',
    data: z.object({
      user_id: entityId,
      country,
      languages,
      preferred_language: z.string().min(2).max(35).nullable(),
    }),
  }),
  defineEvent('identity.user.email-verified.v1', {
    description: 'The account proved it owns its email address.',
    data: z.object({ user_id: entityId }),
  }),
  defineEvent('identity.user.suspended.v1', {
    description: 'An admin suspended the account; it can no longer log in or work.',
    data: z.object({ user_id: entityId, reason_code: reasonCode }),
  }),
  defineEvent('identity.user.reinstated.v1', {
    description: 'A suspended account is active again.',
    data: z.object({ user_id: entityId }),
  }),
  defineEvent('identity.user.erased.v1', {
    description:
      'The account asked to be erased: its personal data is gone from identity, and every service scrubs what it holds about the user.',
    data: z.object({ user_id: entityId }),
  }),
  defineEvent('identity.company.created.v1', {
    description: 'A company was created; its creator is its first manager (a member-added event follows).',
    data: z.object({ company_id: entityId, name: z.string().min(1).max(200), created_by: entityId }),
  }),
  defineEvent('identity.company.member-added.v1', {
    description: 'A user became a member of a company, or changed member role.',
    data: z.object({ company_id: entityId, user_id: entityId, member_role: memberRole }),
  }),
  defineEvent('identity.company.member-removed.v1', {
    description: 'A user is no longer a member of a company.',
    data: z.object({ company_id: entityId, user_id: entityId }),
  }),
  defineEvent('identity.principal.revoked.v1', {
    description:
      'A session (logout, refresh-token reuse, password reset, suspension, erasure) or a company API key was revoked: every service refuses access tokens carrying it (`sid` for a session, `sub` for an API key) until they expire.',
    data: z.object({
      kind: z.enum(['session', 'api_key']),
      /** The session id (the token's `sid`) or the API key id (the token's `sub`). */
      principal_id: entityId,
      /** The session's user, or the API key's company. */
      owner_id: entityId,
      reason: reasonCode,
      revoked_at: z.iso.datetime({ offset: true }),
      /** No access token carrying this principal outlives this instant: the revocation can be forgotten then. */
      tokens_expire_by: z.iso.datetime({ offset: true }),
    }),
  }),
] as const;
