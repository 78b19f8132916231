import fs from 'node:fs';
import net from 'node:net';
import { createLogger } from '@tessera/service-kit';
import { waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auth, signUp, startIdentity, type TestIdentity, uniqueEmail } from '../testing/harness.ts';

// Mail that an SMTP server refuses: what identity logs says why, never to whom. The mail goes
// through the real SMTP mailer (nodemailer) to a server on this machine that rejects every
// recipient, quoting the address, as Postfix does.

const LOGGER_NAME = 'identity-mail-failures';

/** The lines this file's logger wrote (pino writes to fd 1 through sonic-boom). */
const logged: string[] = [];
function captureStdout() {
  const keep = (data: unknown) => {
    const text = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8');
    if (text.includes(LOGGER_NAME)) logged.push(text);
    return Buffer.byteLength(text);
  };
  // The module object itself (sonic-boom calls `fs.write` through it), untyped: both have many overloads.
  const realWrite = fs.write.bind(fs) as (...args: unknown[]) => void;
  const realWriteSync = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
  const sync = vi
    .spyOn(fs, 'writeSync')
    .mockImplementation((fd: number, data: unknown, ...rest: unknown[]) =>
      fd === 1 ? keep(data) : realWriteSync(fd, data, ...rest),
    );
  const async = vi.spyOn(fs, 'write').mockImplementation((fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd !== 1) return realWrite(fd, data, ...rest);
    const written = keep(data);
    const done = rest.findLast((arg) => typeof arg === 'function') as
      ((...args: unknown[]) => void) | undefined;
    if (done) process.nextTick(() => done(null, written, data));
  });
  return () => {
    sync.mockRestore();
    async.mockRestore();
  };
}

/** An SMTP server that rejects every recipient: 550 quoting the address. */
async function rejectingSmtpServer() {
  const rejected: string[] = [];
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.write('220 mx.example.test ESMTP\r\n');
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-mx.example.test\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL' || verb === 'RSET' || verb === 'NOOP') socket.write('250 2.0.0 Ok\r\n');
        else if (verb === 'RCPT') {
          const to = /<([^>]*)>/.exec(line)?.[1] ?? '';
          rejected.push(to);
          socket.write(
            `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table\r\n`,
          );
        } else if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
        else socket.write('502 5.5.2 Error: command not recognized\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let smtp: Awaited<ReturnType<typeof rejectingSmtpServer>>;
let t: TestIdentity;
let restoreStdout = () => {};

beforeAll(async () => {
  smtp = await rejectingSmtpServer();
  restoreStdout = captureStdout();
  t = await startIdentity({ SMTP_URL: smtp.url }, undefined, {
    logger: createLogger({ name: LOGGER_NAME, level: 'info', pretty: false }),
  });
});
afterAll(async () => {
  await t?.stop();
  restoreStdout();
  await smtp?.close();
});

describe('mail an SMTP server refuses', () => {
  it('is logged with its SMTP code, never with the address (verification, reset, invitation)', async () => {
    const email = uniqueEmail('Jane.Refused');
    const invited = uniqueEmail('Invited.Person');
    const user = await signUp(t, { email, role: 'company' });
    const forgot = await t.app.inject({ method: 'POST', url: '/auth/forgot-password', payload: { email } });
    expect(forgot.statusCode).toBe(202);
    const company = await t.app.inject({
      method: 'POST',
      url: '/api/v1/companies',
      headers: auth(user.access),
      payload: { name: 'Bouncing Mail Ltd' },
    });
    const invite = await t.app.inject({
      method: 'POST',
      url: `/api/v1/companies/${company.json().company.id}/invitations`,
      headers: auth(user.access),
      payload: { email: invited, member_role: 'viewer' },
    });
    expect(invite.statusCode).toBe(202);

    const failures = await waitFor(
      async () => {
        const lines = logged
          .join('')
          .split('\n')
          .filter((line) => line.includes('could not be sent'));
        return lines.length >= 3 && lines;
      },
      { what: 'three mail failures logged' },
    );
    // The server did refuse both addresses, quoting them.
    expect(smtp.rejected.map((a) => a.toLowerCase()).sort()).toEqual(
      [email, email, invited].map((a) => a.toLowerCase()).sort(),
    );
    const everything = logged.join('').toLowerCase();
    for (const address of [email, invited]) {
      const [local] = address.toLowerCase().split('@');
      expect(everything.includes(address.toLowerCase()), 'the address in the log').toBe(false);
      expect(everything.includes(local!), 'its local part in the log').toBe(false);
    }
    for (const line of failures) {
      expect(JSON.parse(line)).toMatchObject({
        level: 50,
        mail_error: { code: 'EENVELOPE', response_code: 550, command: 'RCPT TO' },
      });
    }
  });
});
