import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { operationsOf } from './operations.ts';
import { fuzz } from './run.ts';
import { stateProbe } from './state.ts';

// The fuzzer's own checks, against a server that breaks each promise once: they must catch it.

const database = `fuzz_selftest_${Date.now()}`;
let adminUrl: string;
let databaseUrl: string;
let server: Server;
let baseUrl: string;
let db: pg.Pool;

beforeAll(async () => {
  adminUrl = inject('postgresUrl');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  await db.query('create table outbox (position bigserial primary key, note text)');

  server = createServer((request, response) => {
    void (async () => {
      const path = request.url?.split('?')[0];
      const reply = (status: number) => {
        response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      };
      if (path === '/boom') return reply(500);
      if (path === '/sneaky') {
        // Refuses, yet has written: the promise a refused request breaks.
        await db.query(`insert into outbox (note) values ('sneaky')`);
        return reply(422);
      }
      if (path === '/open') return reply(200); // lets any token in
      if (path === '/guarded') return reply(request.headers.authorization === 'Bearer a.b.c' ? 200 : 401);
      return reply(404);
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
  await db?.end();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
});

const secured = [{ bearerAuth: [] }];
const document = {
  paths: {
    '/boom': { post: {} },
    '/sneaky': { post: {} },
    '/open': { get: { security: secured } },
    '/guarded': { get: { security: secured } },
  },
};

describe('the fuzzer', () => {
  it('reports a 5xx, a refusal that wrote, and a forged token let in, and nothing else', async () => {
    const state = stateProbe({ selftest: databaseUrl });
    try {
      const report = await fuzz({
        baseUrl,
        operations: operationsOf(document),
        roles: [
          { name: 'anonymous', session: false },
          { name: 'user', authorization: 'Bearer a.b.c', session: true },
        ],
        known: {},
        state,
        perCell: 3,
        seed: 1,
      });
      const byOperation = new Map(report.findings.map((f) => [f.operation, f.problem]));
      expect([...byOperation.keys()].sort()).toEqual(['GET /open', 'POST /boom', 'POST /sneaky']);
      expect(byOperation.get('POST /boom')).toMatch(/^server error/);
      expect(byOperation.get('POST /sneaky')).toMatch(/^refused, yet changed selftest\.outbox \d+→\d+$/);
      expect(byOperation.get('GET /open')).toMatch(/^a forged or malformed token got 200, not 401/);
      expect(report.byStatus['500']).toBe(6);
      expect(report.requests).toBeGreaterThan(12);
    } finally {
      await state.close();
    }
  });
});
