import { describe, expect, it } from 'vitest';
import { mailFailure } from './mailer.ts';

describe('what is logged of a mail that could not be sent', () => {
  it('keeps the codes and the message, with every address replaced, and nothing else of the error', () => {
    // The shape nodemailer gives when the server refuses every recipient.
    const error = Object.assign(
      new Error(
        "Can't send mail - all recipients were rejected: 550 5.1.1 <Jane.Doe@Example.com>: Recipient address rejected",
      ),
      {
        code: 'EENVELOPE',
        response: '550 5.1.1 <Jane.Doe@Example.com>: Recipient address rejected',
        responseCode: 550,
        command: 'RCPT TO',
        rejected: ['Jane.Doe@Example.com'],
        rejectedErrors: [{ recipient: 'Jane.Doe@Example.com' }],
      },
    );
    const logged = mailFailure(error);
    expect(logged).toEqual({
      code: 'EENVELOPE',
      response_code: 550,
      command: 'RCPT TO',
      message:
        "Can't send mail - all recipients were rejected: 550 5.1.1 [address]: Recipient address rejected",
    });
    expect(
      mailFailure(new Error('mailbox jane@example.com (quota) is full; to=jane+x@example.com,')).message,
    ).toBe('mailbox [address] (quota) is full; [address],');
    expect(mailFailure('bounced: jane@example.com')).toEqual({ message: 'bounced: [address]' });
    expect(mailFailure(undefined)).toEqual({ message: 'undefined' });
  });
});
