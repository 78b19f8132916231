import type { OutgoingMail } from './mailer.ts';

export function verificationMail(to: string, otp: string, ttlMinutes: number): OutgoingMail {
  return {
    to,
    kind: 'email_verification',
    subject: 'Your Tessera verification code',
    text: [
      `Your verification code is ${otp}.`,
      '',
      `It expires in ${ttlMinutes} minutes. If you did not sign up for Tessera, ignore this message.`,
    ].join('\n'),
  };
}

export function passwordResetMail(to: string, link: string, ttlMinutes: number): OutgoingMail {
  return {
    to,
    kind: 'password_reset',
    subject: 'Reset your Tessera password',
    text: [
      'Someone asked to reset the password of your Tessera account. To choose a new one, open:',
      '',
      link,
      '',
      `The link works once and expires in ${ttlMinutes} minutes. If it was not you, ignore this message;`,
      'your password has not changed.',
    ].join('\n'),
  };
}

export function invitationMail(
  to: string,
  invitation: { company: string; memberRole: string; link: string; token: string; ttlDays: number },
): OutgoingMail {
  return {
    to,
    kind: 'company_invitation',
    subject: `You are invited to join ${invitation.company} on Tessera`,
    text: [
      `You are invited to join ${invitation.company} on Tessera as ${invitation.memberRole}. To accept, log in`,
      'with a company account of this address and open:',
      '',
      invitation.link,
      '',
      `(or accept with the code ${invitation.token}). The invitation expires in ${invitation.ttlDays} days.`,
      'If you do not know this company, ignore this message: nothing happens until you accept.',
    ].join('\n'),
  };
}
