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
