import { describe, expect, it } from 'vitest';
import { decideAcceptance, type InvitationState, type Invitee } from './invitations.ts';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000);
const invitation: InvitationState = {
  email: 'Ada@Example.test',
  memberRole: 'viewer',
  expiresAt: at(100),
  acceptedAt: null,
  revokedAt: null,
};
const invitee: Invitee = {
  email: 'ada@example.test',
  emailVerified: true,
  role: 'company',
  status: 'active',
};
const codeOf = (decision: ReturnType<typeof decideAcceptance>) =>
  decision.ok ? decision.value : decision.refusal.code;

describe('accepting an invitation', () => {
  it('makes the invited, verified company account a member in the invited role', () => {
    expect(decideAcceptance(invitation, invitee, at(10))).toEqual({
      ok: true,
      value: { memberRole: 'viewer' },
    });
  });

  it('is refused to anyone but the address it was sent to', () => {
    expect(codeOf(decideAcceptance(invitation, { ...invitee, email: 'eve@example.test' }, at(10)))).toBe(
      'INVITATION_FOR_ANOTHER_ADDRESS',
    );
    expect(codeOf(decideAcceptance(invitation, { ...invitee, email: null }, at(10)))).toBe(
      'INVITATION_FOR_ANOTHER_ADDRESS',
    );
  });

  it('works once, before it expires, unless revoked', () => {
    expect(codeOf(decideAcceptance(undefined, invitee, at(10)))).toBe('INVITATION_NOT_FOUND');
    expect(codeOf(decideAcceptance({ ...invitation, revokedAt: at(5) }, invitee, at(10)))).toBe(
      'INVITATION_NOT_FOUND',
    );
    expect(codeOf(decideAcceptance({ ...invitation, acceptedAt: at(5) }, invitee, at(10)))).toBe(
      'INVITATION_USED',
    );
    expect(codeOf(decideAcceptance(invitation, invitee, at(100)))).toBe('INVITATION_EXPIRED');
  });

  it('is nobody’s once its address was erased, even accepted', () => {
    for (const erased of [
      { ...invitation, email: null },
      { ...invitation, email: null, acceptedAt: at(5) },
    ]) {
      expect(codeOf(decideAcceptance(erased, invitee, at(10)))).toBe('INVITATION_NOT_FOUND');
      expect(codeOf(decideAcceptance(erased, { ...invitee, email: null }, at(10)))).toBe(
        'INVITATION_NOT_FOUND',
      );
    }
  });

  it('needs a verified address and an active company account', () => {
    expect(codeOf(decideAcceptance(invitation, { ...invitee, emailVerified: false }, at(10)))).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    expect(codeOf(decideAcceptance(invitation, { ...invitee, status: 'suspended' }, at(10)))).toBe(
      'ACCOUNT_SUSPENDED',
    );
    expect(codeOf(decideAcceptance(invitation, { ...invitee, role: 'contributor' }, at(10)))).toBe(
      'MEMBER_NOT_ELIGIBLE',
    );
  });
});
