import { type Decision, accept, refuse, reject } from '@tessera/service-kit';
import type { MemberRole } from './access.ts';
import type { UserStatus } from './sessions.ts';

/** An invitation is good for a week. */
export const INVITATION_TTL_S = 7 * 24 * 3600;
/** Open invitations per company: a manager cannot turn identity into a mail cannon. */
export const MAX_OPEN_INVITATIONS_PER_COMPANY = 50;
/**
 * Invitations one company sends one address in 24 hours, revoked ones included: revoking and
 * inviting again must not make the cap on open invitations a loop that mails someone without end.
 */
export const MAX_INVITATIONS_PER_ADDRESS_PER_DAY = 3;

export interface InvitationState {
  /** The address invited, as typed; null once its owner erased the account. */
  email: string | null;
  memberRole: MemberRole;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

export interface Invitee {
  email: string | null;
  emailVerified: boolean;
  role: 'contributor' | 'company' | 'admin';
  status: UserStatus;
}

const notFound = () =>
  refuse.notFound('No such invitation; ask the company for a new one.', 'INVITATION_NOT_FOUND');

/**
 * May this account accept this invitation? Only the person it was sent to: a logged-in, active
 * company account whose verified address is the invited one (case-insensitively), once, before it
 * expires. Someone else holding the link learns nothing beyond "not for you".
 */
export function decideAcceptance(
  invitation: InvitationState | undefined,
  invitee: Invitee,
  now: Date,
): Decision<{ memberRole: MemberRole }> {
  // An invitation whose address was erased is nobody's any more.
  if (!invitation || invitation.revokedAt || invitation.email === null) return reject(notFound());
  if (!invitee.email || invitee.email.toLowerCase() !== invitation.email.toLowerCase()) {
    return reject(
      refuse.forbidden(
        'This invitation was sent to another address; log in as that account.',
        'INVITATION_FOR_ANOTHER_ADDRESS',
      ),
    );
  }
  if (invitation.acceptedAt) {
    return reject(refuse.conflict('INVITATION_USED', 'This invitation has already been accepted.'));
  }
  if (invitation.expiresAt.getTime() <= now.getTime()) {
    return reject(refuse.conflict('INVITATION_EXPIRED', 'This invitation has expired; ask for a new one.'));
  }
  if (invitee.status !== 'active')
    return reject(refuse.forbidden('This account is suspended.', 'ACCOUNT_SUSPENDED'));
  if (!invitee.emailVerified) {
    return reject(refuse.forbidden('Verify your email address first.', 'EMAIL_NOT_VERIFIED'));
  }
  if (invitee.role !== 'company') {
    return reject(
      refuse.unprocessable(
        'MEMBER_NOT_ELIGIBLE',
        'Only active company accounts (role "company") can be company members.',
      ),
    );
  }
  return accept({ memberRole: invitation.memberRole });
}
