import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from './app.ts';
import { type GatewayConfig, loadConfig, type RouteConfig } from './config.ts';
import { bestPrefix } from './paths.ts';
import { deadOrigin, type FakeUpstream, startFakeUpstream } from './testing/fake-upstream.ts';

// Real HTTP end to end: client -> gateway (listening on a port) -> two stand-in upstream services.

/**
 * The forwarded prefixes under which the document has no operation that the router would send
 * to that prefix. Independent of the merge's own `x-undocumented-prefixes`.
 */
function undocumentedPrefixes(
  paths: Record<string, Record<string, unknown>>,
  routed: RouteConfig[],
): string[] {
  const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
  const documented = new Set(
    Object.entries(paths)
      .filter(([, item]) => methods.some((m) => item[m] !== undefined))
      .map(([path]) => bestPrefix(path, routed)?.prefix),
  );
  return routed.map((r) => r.prefix).filter((prefix) => !documented.has(prefix));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function configFor(routes: RouteConfig[], overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...loadConfig({ NODE_ENV: 'test', GATEWAY_ROUTES: JSON.stringify(routes) }), ...overrides };
}

async function start(config: GatewayConfig): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildGateway(config, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

let identity: FakeUpstream;
let tasks: FakeUpstream;
let gateway: { app: FastifyInstance; url: string };
let routes: RouteConfig[];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  identity = await startFakeUpstream('identity', '/auth');
  tasks = await startFakeUpstream('tasks', '/tasks');
  routes = [
    { service: 'identity', prefix: '/auth', upstream: identity.url },
    { service: 'tasks', prefix: '/tasks', upstream: tasks.url },
  ];
  gateway = await start(configFor(routes, { upstreamTimeoutMs: 300 }));
  closers.push(
    () => gateway.app.close(),
    () => identity.close(),
    () => tasks.close(),
  );
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('routing', () => {
  it('forwards by prefix with the full path and the query string preserved', async () => {
    const res = await fetch(`${gateway.url}/auth/echo?a=1&b=two%20words`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { service: string; method: string; url: string };
    expect(body).toMatchObject({ service: 'identity', method: 'GET', url: '/auth/echo?a=1&b=two%20words' });

    const item = (await (await fetch(`${gateway.url}/tasks/items/42`)).json()) as {
      service: string;
      url: string;
    };
    expect(item).toMatchObject({ service: 'tasks', url: '/tasks/items/42' });
  });

  it('forwards the bare prefix itself', async () => {
    const body = (await (await fetch(`${gateway.url}/tasks`)).json()) as { url: string; service: string };
    expect(body).toMatchObject({ service: 'tasks', url: '/tasks' });
  });

  it('passes methods, bodies and headers through', async () => {
    const post = await fetch(`${gateway.url}/auth/echo`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer t0ken',
        'idempotency-key': 'k-1',
      },
      body: JSON.stringify({ email: 'a@example.com', n: 1 }),
    });
    expect(post.status).toBe(200);
    const seen = (await post.json()) as { method: string; body: unknown; headers: Record<string, string> };
    expect(seen.method).toBe('POST');
    expect(seen.body).toEqual({ email: 'a@example.com', n: 1 });
    expect(seen.headers).toMatchObject({ authorization: 'Bearer t0ken', 'idempotency-key': 'k-1' });
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');

    const put = await fetch(`${gateway.url}/tasks/echo`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: 'plain text',
    });
    expect(await put.json()).toMatchObject({ method: 'PUT', body: 'plain text' });

    const del = await fetch(`${gateway.url}/tasks/echo?hard=true`, { method: 'DELETE' });
    expect(await del.json()).toMatchObject({ method: 'DELETE', url: '/tasks/echo?hard=true' });
  });

  it('passes upstream error responses through untouched', async () => {
    const res = await fetch(`${gateway.url}/auth/conflict`, { method: 'POST' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'ALREADY_EXISTS', detail: 'identity says no' });
  });

  it('does not retry an upstream 503', async () => {
    const before = tasks.seen.length;
    const res = await fetch(`${gateway.url}/tasks/unavailable`);
    expect(res.status).toBe(503);
    expect(tasks.seen.length - before).toBe(1);
  });

  it('answers 404 problem+json for an unknown path, including look-alikes of a prefix', async () => {
    for (const path of ['/nope', '/authors', '/']) {
      const res = await fetch(`${gateway.url}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        type: 'urn:tessera:problem:not-found',
        title: 'Not Found',
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(body.request_id).toBe(res.headers.get('x-request-id'));
    }
  });

  it('sends a path to the most specific matching prefix', async () => {
    const nested = await start(
      configFor([...routes, { service: 'identity', prefix: '/tasks/echo', upstream: identity.url }]),
    );
    closers.push(() => nested.app.close());
    // Identity does not serve /tasks/echo: its own 404 proves the request went there, path intact.
    const res = await fetch(`${nested.url}/tasks/echo`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ message: 'Route GET:/tasks/echo not found' });
    expect(await (await fetch(`${nested.url}/tasks/items/1`)).json()).toMatchObject({ service: 'tasks' });
  });

  it("routes a parameterised prefix nested under another service's prefix to its own service", async () => {
    const ledger = await startFakeUpstream('ledger', '/tasks/:campaign/budget');
    const nested = await start(
      configFor([...routes, { service: 'ledger', prefix: '/tasks/:campaign/budget', upstream: ledger.url }]),
    );
    closers.push(
      () => nested.app.close(),
      () => ledger.close(),
    );
    const get = async (path: string) => (await (await fetch(`${nested.url}${path}`)).json()) as object;
    expect(await get('/tasks/c0ffee/budget?currency=USD')).toMatchObject({
      service: 'ledger',
      url: '/tasks/c0ffee/budget?currency=USD',
    });
    expect(await get('/tasks/c0ffee/budget/items/7')).toMatchObject({
      service: 'ledger',
      url: '/tasks/c0ffee/budget/items/7',
    });
    // Everything else under the shorter prefix still goes to its owner, including paths whose
    // second segment could be the parameter (`items` in `/tasks/items/42`).
    for (const path of ['/tasks', '/tasks/echo', '/tasks/items/42']) {
      expect(await get(path)).toMatchObject({ service: 'tasks', url: path });
    }
  });

  it('answers 504 UPSTREAM_TIMEOUT when an upstream is too slow', async () => {
    const res = await fetch(`${gateway.url}/tasks/slow`);
    expect(res.status).toBe(504);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' });
  });
});

describe('request ids', () => {
  it('generates one, forwards it upstream and returns it', async () => {
    const res = await fetch(`${gateway.url}/auth/echo`);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers['x-request-id']).toBe(id);
  });

  it('honours a sane incoming one', async () => {
    const res = await fetch(`${gateway.url}/tasks/echo`, { headers: { 'x-request-id': 'client-abc.123' } });
    expect(res.headers.get('x-request-id')).toBe('client-abc.123');
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers['x-request-id']).toBe('client-abc.123');
  });

  it('replaces an unreasonable incoming one', async () => {
    for (const bad of ['x'.repeat(129), 'has spaces', '<script>']) {
      const res = await fetch(`${gateway.url}/tasks/echo`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(UUID);
      expect(((await res.json()) as { headers: Record<string, string> }).headers['x-request-id']).toBe(id);
    }
  });

  it("is on the gateway's own responses too", async () => {
    const res = await fetch(`${gateway.url}/healthz`, { headers: { 'x-request-id': 'probe-1' } });
    expect(res.headers.get('x-request-id')).toBe('probe-1');
  });
});

describe('an upstream that is down', () => {
  let down: { app: FastifyInstance; url: string };

  beforeAll(async () => {
    down = await start(
      configFor([...routes, { service: 'qc', prefix: '/qc', upstream: await deadOrigin() }], {
        docsCacheMs: 0,
      }),
    );
    closers.push(() => down.app.close());
  });

  it('answers 502 UPSTREAM_UNAVAILABLE problem+json without leaking internals', async () => {
    const res = await fetch(`${down.url}/qc/reviews`, { headers: { 'x-request-id': 'req-502' } });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(res.headers.get('x-request-id')).toBe('req-502');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      type: 'urn:tessera:problem:upstream-unavailable',
      title: 'Bad Gateway',
      status: 502,
      code: 'UPSTREAM_UNAVAILABLE',
      detail: 'The qc service is unavailable; try again later.',
      request_id: 'req-502',
    });
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stack/);
  });

  it('still routes to the healthy ones', async () => {
    expect((await fetch(`${down.url}/auth/echo`)).status).toBe(200);
  });

  it('makes /readyz answer 503 naming it', async () => {
    const res = await fetch(`${down.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      services: {
        identity: { status: 'up' },
        tasks: { status: 'up' },
        qc: { status: 'down', reason: 'unreachable' },
      },
      down: ['qc'],
    });
  });

  it('leaves it out of /docs/json and says so', async () => {
    const res = await fetch(`${down.url}/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown>; 'x-unavailable-services': unknown };
    expect(doc['x-unavailable-services']).toEqual([{ service: 'qc', reason: 'unreachable' }]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/auth/echo', '/auth/items/{id}', '/tasks/echo', '/tasks/items/{id}']),
    );
  });
});

describe('health', () => {
  it('/healthz answers 200', async () => {
    const res = await fetch(`${gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when every upstream is up', async () => {
    const res = await fetch(`${gateway.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      services: { identity: { status: 'up' }, tasks: { status: 'up' } },
    });
  });
});

describe('rate limiting', () => {
  it('answers 429 problem+json with Retry-After past the per-IP budget', async () => {
    const limited = await start(configFor(routes, { rateLimit: { max: 3, timeWindowMs: 60_000 } }));
    closers.push(() => limited.app.close());

    for (let i = 0; i < 3; i++) expect((await fetch(`${limited.url}/auth/echo`)).status).toBe(200);
    const res = await fetch(`${limited.url}/tasks/echo`, { headers: { 'x-request-id': 'too-many' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('x-request-id')).toBe('too-many');
    expect(await res.json()).toMatchObject({
      type: 'urn:tessera:problem:rate-limited',
      title: 'Too Many Requests',
      status: 429,
      code: 'RATE_LIMITED',
      detail: expect.stringMatching(/retry in/),
    });
    // Unknown paths count too, so scanning is limited as well.
    expect((await fetch(`${limited.url}/nope`)).status).toBe(429);
    // Health endpoints are exempt.
    expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
  });
});

describe('CORS', () => {
  it('answers a preflight for a proxied route', async () => {
    const res = await fetch(`${gateway.url}/auth/echo`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type,authorization');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('exposes the request id on actual requests', async () => {
    const res = await fetch(`${gateway.url}/auth/echo`, { headers: { origin: 'http://localhost:5173' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('only allows configured origins when a list is given', async () => {
    const strict = await start(configFor(routes, { corsOrigins: ['https://app.tessera.test'] }));
    closers.push(() => strict.app.close());
    const preflight = (origin: string) =>
      fetch(`${strict.url}/auth/echo`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await preflight('https://app.tessera.test');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.tessera.test');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const denied = await preflight('https://evil.test');
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('docs', () => {
  it('/docs/json merges the OpenAPI documents of both upstreams', async () => {
    const res = await fetch(`${gateway.url}/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string };
      servers: unknown;
      paths: Record<string, Record<string, { tags: string[]; operationId?: string }>>;
      components: { schemas: Record<string, unknown> };
      tags: { name: string }[];
      'x-unavailable-services': unknown[];
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Tessera API');
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/admin/dashboard',
      '/auth/echo',
      '/auth/items/{id}',
      '/healthz',
      '/readyz',
      '/tasks/echo',
      '/tasks/items/{id}',
    ]);
    // The upstreams' own /healthz is not what /healthz is here: the gateway's is documented.
    expect(doc.paths['/healthz']!.get!.tags).toEqual(['gateway']);
    // Same schema name, different definitions: namespaced per service.
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Payload', 'identity.Item', 'tasks.Item']);
    expect(doc.paths['/auth/echo']!.post!.operationId).toBe('identity.echo');
    expect(doc.paths['/auth/echo']!.post!.tags).toEqual(['identity']);
    expect(doc.tags.map((t) => t.name)).toEqual([
      'gateway',
      'identity',
      'identity.items',
      'tasks',
      'tasks.items',
    ]);
    expect(doc['x-unavailable-services']).toEqual([]);
  });

  it('/docs/yaml serves the same merged document', async () => {
    const res = await fetch(`${gateway.url}/docs/yaml`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('/tasks/items/{id}');
    expect(text).toContain('title: Tessera API');
  });

  it('/docs serves the swagger-ui page', async () => {
    const res = await fetch(`${gateway.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('swagger-ui');
    const initializer = await fetch(`${gateway.url}/docs/static/swagger-initializer.js`);
    expect(initializer.status).toBe(200);
  });

  it("documents every forwarded prefix, a parameterised one nested in another service's included", async () => {
    const ledger = await startFakeUpstream('ledger', '/tasks/:campaign/budget');
    const nestedRoutes = [
      ...routes,
      { service: 'ledger', prefix: '/tasks/:campaign/budget', upstream: ledger.url },
    ];
    const nested = await start(configFor(nestedRoutes, { docsCacheMs: 0 }));
    closers.push(
      () => nested.app.close(),
      () => ledger.close(),
    );
    const doc = (await (await fetch(`${nested.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      'x-undocumented-prefixes'?: unknown;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/tasks/{campaign}/budget/echo', '/tasks/{campaign}/budget/items/{id}']),
    );
    expect(undocumentedPrefixes(doc.paths, nestedRoutes)).toEqual([]);
    expect(doc['x-undocumented-prefixes']).toBeUndefined();
  });

  it('names a forwarded prefix that has no documented operation', async () => {
    // Identity documents nothing under /tasks/:campaign/secret, yet the gateway forwards it there.
    const withHole = [
      ...routes,
      { service: 'identity', prefix: '/tasks/:campaign/secret', upstream: identity.url },
    ];
    const holed = await start(configFor(withHole, { docsCacheMs: 0 }));
    closers.push(() => holed.app.close());
    const doc = (await (await fetch(`${holed.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      'x-undocumented-prefixes'?: unknown;
    };
    expect(undocumentedPrefixes(doc.paths, withHole)).toEqual(['/tasks/:campaign/secret']);
    expect(doc['x-undocumented-prefixes']).toEqual([
      { service: 'identity', prefix: '/tasks/:campaign/secret' },
    ]);
  });

  it('is a valid document with no services configured', async () => {
    const empty = await start(configFor([]));
    closers.push(() => empty.app.close());
    const doc = (await (await fetch(`${empty.url}/docs/json`)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: 'Tessera API' }, servers: [{ url: '/' }] });
    expect(Object.keys(doc.paths as object).sort()).toEqual([
      '/api/v1/admin/dashboard',
      '/healthz',
      '/readyz',
    ]);
  });
});
