// NATS_TLS_CA: the kit connects over TLS and trusts only the server its CA signed. Certificates are
// made with the openssl binary for this test.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findNatsServer, type ResolvedNats, startLocalNats } from '@tessera/devstack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, ensureStream } from './bus.ts';

const run = promisify(execFile);
let dir: string;
let nats: ResolvedNats;

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir }).catch((error: Error) => {
    throw new Error(`these tests need the openssl binary: ${error.message}`);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-nats-tls-'));
  const subject = (cn: string) => ['-subj', `/CN=${cn}`];
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '1',
    ...subject('test-ca'),
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server-key.pem',
    '-out',
    'server.csr',
    ...subject('localhost'),
  );
  await writeFile(path.join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.cnf',
  );
  // A second CA that signed nothing the server has.
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other-key.pem',
    '-out',
    'other.pem',
    '-days',
    '1',
    ...subject('other-ca'),
  );
  const config = path.join(dir, 'nats.conf');
  const file = (name: string) => JSON.stringify(path.join(dir, name));
  await writeFile(
    config,
    `tls {\n  cert_file: ${file('server.pem')}\n  key_file: ${file('server-key.pem')}\n}\n`,
  );
  nats = await startLocalNats(findNatsServer()!, { config });
});

afterAll(async () => {
  await nats?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a bus over TLS', () => {
  it('connects when the server’s certificate is signed by NATS_TLS_CA', async () => {
    const bus = await connectBus({ url: nats.url, name: 'tasks', tlsCa: path.join(dir, 'ca.pem') });
    try {
      expect(await ensureStream(bus, 'tasks')).toBe('TASKS');
    } finally {
      await bus.close();
    }
  });

  it('refuses a server its CA did not sign, and one it has no CA for', async () => {
    for (const tlsCa of [path.join(dir, 'other.pem'), undefined]) {
      const error = await connectBus({ url: nats.url, name: 'tasks', ...(tlsCa ? { tlsCa } : {}) }).then(
        (bus) => bus.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(String(error)).toMatch(/certificate/i);
    }
  });
});
