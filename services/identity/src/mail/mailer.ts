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

/** Anything shaped like an address, inside angle brackets or not. */
const ADDRESS = /<[^<>\s]*>|[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g;

export interface MailFailure {
  /** nodemailer's code (`EENVELOPE`, `ECONNECTION`, `EAUTH`, …). */
  code?: string;
  /** The SMTP reply code (550: the recipient was refused). */
  response_code?: number;
  /** The SMTP command that failed (`RCPT TO`, `DATA`, …). */
  command?: string;
  /** The error's message with every address replaced, at most 300 characters. */
  message: string;
}

/**
 * What may be logged about a mail that could not be sent. Never the error itself: nodemailer's
 * errors name the recipients (`rejected`, `rejectedErrors`, `recipient`) and quote the server's
 * reply, which quotes the address, in `response` and `message`; a log redaction list cannot
 * catch them all.
 */
export function mailFailure(error: unknown): MailFailure {
  const { code, responseCode, command, message } = (error ?? {}) as Record<string, unknown>;
  const text = typeof message === 'string' ? message : String(error);
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof responseCode === 'number' ? { response_code: responseCode } : {}),
    ...(typeof command === 'string' ? { command } : {}),
    message: text.replace(ADDRESS, '[address]').slice(0, 300),
  };
}
