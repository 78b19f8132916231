import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from './app.ts';
import { type GatewayConfig, loadConfig, type RouteConfig } from './config.ts';
import { deadOrigin, type FakeUpstream, startFakeUpstream } from './testing/fake-upstream.ts';
import { RawConnection, rawRequest, type RawResponse } from './testing/http-client.ts';

// Bodies, `Expect: 100-continue` and connection reuse, over real sockets: a node:http or raw TCP
// client -> the gateway listening on a port -> stand-in upstream services on their own ports.

const MiB = 1_048_576;

function configFor(routes: RouteConfig[], overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...loadConfig({ NODE_ENV: 'test', GATEWAY_ROUTES: JSON.stringify(routes) }), ...overrides };
}

async function start(config: GatewayConfig): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildGateway(config, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const json = (res: RawResponse) => JSON.parse(res.body) as Record<string, unknown>;

function expectProblem(res: RawResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  const body = json(res);
  expect(body).toMatchObject({
    type: `urn:tessera:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    status,
    code,
  });
  expect(body.request_id).toBe(res.headers['x-request-id']);
}

/** A JSON document of about `bytes` bytes. */
function jsonOfSize(bytes: number): Buffer {
  return Buffer.from(JSON.stringify({ filler: 'x'.repeat(bytes - 14) }));
}

let identity: FakeUpstream;
let tasks: FakeUpstream;
let gateway: { app: FastifyInstance; url: string };
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  identity = await startFakeUpstream('identity', '/auth');
  tasks = await startFakeUpstream('tasks', '/tasks');
  gateway = await start(
    configFor(
      [
        { service: 'identity', prefix: '/auth', upstream: identity.url },
        { service: 'tasks', prefix: '/tasks', upstream: tasks.url },
      ],
      {
        upstreamTimeoutMs: 500,
        // The JSON routes keep the default 1 MiB. `/tasks/echo` is let through up to the upload
        // limit only to show that the upstream's own early 413 is passed through.
        uploads: { paths: ['/tasks/upload', '/tasks/early', '/tasks/echo'], bodyLimit: 24 * MiB },
      },
    ),
  );
  closers.push(
    () => gateway.app.close(),
    () => identity.close(),
    () => tasks.close(),
  );
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('request bodies over the limit', () => {
  const twoMiB = jsonOfSize(2 * MiB);
  const headers = { 'content-type': 'application/json' };

  it('answers a 2 MB JSON body with 413 problem+json itself, without Expect', async () => {
    const before = identity.seen.length;
    const res = await rawRequest(`${gateway.url}/auth/echo`, { method: 'POST', headers, body: twoMiB });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(json(res).detail).toBe('The request body is larger than 1048576 bytes.');
    expect(identity.seen.length).toBe(before);
  });

  it('answers a 2 MB JSON body with Expect: 100-continue with 413 at once, never asking for the body', async () => {
    const before = identity.seen.length;
    const res = await rawRequest(`${gateway.url}/auth/echo`, {
      method: 'POST',
      headers,
      body: twoMiB,
      expectContinue: true,
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(res.continued).toBe(false);
    // The body the request announced never came: the connection cannot be reused.
    expect(res.headers.connection).toBe('close');
    expect(identity.seen.length).toBe(before);
  });

  it('answers 413 when a chunked body crosses the limit while streaming', async () => {
    const res = await rawRequest(`${gateway.url}/auth/echo`, {
      method: 'POST',
      headers,
      body: twoMiB,
      chunkSize: 64 * 1024,
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(res.headers.connection).toBe('close');
  });

  it('limits upload routes too, at their own limit', async () => {
    const res = await rawRequest(`${gateway.url}/tasks/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(25 * MiB),
      expectContinue: true,
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(json(res).detail).toBe(`The request body is larger than ${24 * MiB} bytes.`);
    expect(res.continued).toBe(false);
  });

  it('keeps the next request on a client working after each kind of 413', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const options of [{}, { expectContinue: true }, { chunkSize: 64 * 1024 }]) {
        const refused = await rawRequest(`${gateway.url}/auth/echo`, {
          method: 'POST',
          headers,
          body: twoMiB,
          agent,
          ...options,
        });
        expect(refused.status).toBe(413);
        const next = await rawRequest(`${gateway.url}/auth/echo`, { agent });
        expect(next.status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });
});

describe('uploads', () => {
  const upload = randomBytes(20 * MiB);
  const digest = sha256(upload);
  const octets = { 'content-type': 'application/octet-stream' };

  it('streams a 20 MB upload to a route that allows it, without Expect', async () => {
    const res = await rawRequest(`${gateway.url}/tasks/upload`, { headers: octets, body: upload });
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({ service: 'tasks', bytes: upload.length, sha256: digest });
    expect(res.continued).toBe(false);
  });

  it('streams a 20 MB upload with Expect: 100-continue, answering 100 itself and not forwarding Expect', async () => {
    const res = await rawRequest(`${gateway.url}/tasks/upload`, {
      headers: octets,
      body: upload,
      expectContinue: true,
    });
    expect(res.status).toBe(200);
    expect(res.continued).toBe(true);
    expect(json(res)).toEqual({ service: 'tasks', bytes: upload.length, sha256: digest });
    const seen = tasks.seen.at(-1)!;
    expect(seen.url).toBe('/tasks/upload');
    expect(seen.headers.expect).toBeUndefined();
    expect(seen.headers['content-length']).toBe(String(upload.length));
  });

  it('streams a 20 MB chunked upload', async () => {
    const res = await rawRequest(`${gateway.url}/tasks/upload`, {
      headers: octets,
      body: upload,
      chunkSize: 256 * 1024,
    });
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({ service: 'tasks', bytes: upload.length, sha256: digest });
  });
});

describe("an upstream's early answer", () => {
  it('passes an upstream 413 sent before the body was read through, never a 502', async () => {
    // The gateway lets 2 MB through on this route; the upstream (1 MiB, like a service) refuses
    // it as soon as it sees the Content-Length and closes the connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 10; i++) {
        const res = await rawRequest(`${gateway.url}/tasks/echo`, {
          headers: { 'content-type': 'application/json' },
          body: jsonOfSize(2 * MiB),
          expectContinue: i % 2 === 1,
          agent,
        });
        expect(res.status).toBe(413);
        // fastify's own error body: the upstream's answer, not the gateway's.
        expect(json(res)).toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
        expect((await rawRequest(`${gateway.url}/tasks/echo`, { agent })).status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });

  it('passes any status sent before the body was read through (a 401 to a 5 MB upload)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 10; i++) {
        const res = await rawRequest(`${gateway.url}/tasks/early`, {
          headers: { 'content-type': 'application/octet-stream' },
          body: Buffer.alloc(5 * MiB),
          expectContinue: i % 2 === 1,
          agent,
        });
        expect(res.status).toBe(401);
        expect(json(res)).toEqual({ code: 'UNAUTHENTICATED', service: 'tasks' });
        expect((await rawRequest(`${gateway.url}/tasks/echo`, { agent })).status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });
});

describe('connections after an upstream failure', () => {
  it('keeps a keep-alive connection answering after a 502 (node:http agent, one socket)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const failed = await rawRequest(`${gateway.url}/tasks/crash`, { agent });
      expectProblem(failed, 502, 'UPSTREAM_UNAVAILABLE');
      expect(failed.headers.connection).not.toBe('close');
      const next = await rawRequest(`${gateway.url}/tasks/echo`, { agent });
      expect(next.status).toBe(200);
      expect(next.socket).toBe(failed.socket);

      // The same with a request body the upstream never read.
      const failedPost = await rawRequest(`${gateway.url}/tasks/crash`, {
        headers: { 'content-type': 'application/json' },
        body: jsonOfSize(100_000),
        agent,
      });
      expectProblem(failedPost, 502, 'UPSTREAM_UNAVAILABLE');
      const afterPost = await rawRequest(`${gateway.url}/tasks/echo`, { agent });
      expect(afterPost.status).toBe(200);
      expect(afterPost.socket).toBe(failed.socket);
    } finally {
      agent.destroy();
    }
  });

  it('keeps a raw TCP connection answering after a 502, a 504 and a refused connection', async () => {
    const dead = await deadOrigin();
    const withDead = await start(
      configFor(
        [
          { service: 'tasks', prefix: '/tasks', upstream: tasks.url },
          { service: 'qc', prefix: '/qc', upstream: dead },
        ],
        { upstreamTimeoutMs: 300 },
      ),
    );
    closers.push(() => withDead.app.close());
    const connection = await RawConnection.open(withDead.url);
    try {
      expect((await connection.exchange('GET', '/tasks/crash')).status).toBe(502);
      expect((await connection.exchange('GET', '/tasks/echo')).status).toBe(200);
      expect((await connection.exchange('GET', '/tasks/slow')).status).toBe(504);
      expect((await connection.exchange('GET', '/tasks/echo')).status).toBe(200);
      expect((await connection.exchange('GET', '/qc/reviews')).status).toBe(502);
      const last = await connection.exchange('GET', '/tasks/items/7');
      expect(last.status).toBe(200);
      expect(JSON.parse(last.body)).toMatchObject({ service: 'tasks', url: '/tasks/items/7' });
      expect(connection.closed).toBe(false);
    } finally {
      connection.close();
    }
  });
});

describe('event streams', () => {
  it('passes a Server-Sent Events stream through as it flows, and ends it when the gateway shuts down', async () => {
    const upstream = await startFakeUpstream('notifications', '/notes');
    closers.push(() => upstream.close());
    const own = await start(
      configFor([{ service: 'notifications', prefix: '/notes', upstream: upstream.url }], {
        upstreamTimeoutMs: 5_000,
      }),
    );
    const response = await fetch(`${own.url}/notes/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value as Uint8Array);
    expect(first).toContain('event: hello');

    const started = Date.now();
    await own.app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    // The client sees a clean end (its EventSource would reconnect), not a hang.
    let done = false;
    while (!done) done = (await reader.read()).done;
  });
});
