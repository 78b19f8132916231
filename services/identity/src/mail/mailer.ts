import type { Kysely } from 'kysely';
import nodemailer from 'nodemailer';
import type { IdentityDB } from '../db/schema.ts';

export type MailKind = 'email_verification' | 'password_reset' | 'company_invitation';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  kind: MailKind;
}

export interface Mailer {
  readonly transport: 'smtp' | 'dev-mailbox';
  send(mail: OutgoingMail): Promise<void>;
}

export function createSmtpMailer(url: string, from: string): Mailer {
  const transporter = nodemailer.createTransport(url);
  return {
    transport: 'smtp',
    async send({ to, subject, text }) {
      await transporter.sendMail({ from, to, subject, text });
    },
  };
}

/** Outside production without SMTP: mail lands in a table, readable at GET /dev/mailbox. */
export function createDevMailbox(db: Kysely<IdentityDB>, clock: () => Date): Mailer {
  return {
    transport: 'dev-mailbox',
    async send({ to, subject, text, kind }) {
      await db
        .insertInto('dev_mailbox')
        .values({ recipient: to, subject, body: text, kind, created_at: clock() })
        .execute();
    },
  };
}
