import type { AddressInfo } from 'node:net';
import { createHttpApp, createLogger, type HttpApp } from '@tessera/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildGateway } from './app.ts';
import { type GatewayConfig, loadConfig } from './config.ts';

// Client -> gateway -> a real service app (the kit's, as every service builds it), over HTTP.

let service: HttpApp;
const closers: (() => Promise<unknown>)[] = [];

async function startGateway(overrides: Partial<GatewayConfig> = {}): Promise<string> {
  const routes = [{ service: 'svc', prefix: '/svc', upstream: serviceUrl() }];
  const config = {
    ...loadConfig({ NODE_ENV: 'test', GATEWAY_ROUTES: JSON.stringify(routes) }),
    ...overrides,
  };
  const gateway: FastifyInstance = await buildGateway(config, { logger: false });
  await gateway.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => gateway.close());
  return `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
}

function serviceUrl(): string {
  return `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // As in a service: TRUST_PROXY's default (the gateway on loopback).
  service = await createHttpApp({
    name: 'svc',
    logger: createLogger({ name: 'svc', level: 'silent', pretty: false }),
    rateLimitMax: false,
    trustProxy: 'loopback',
  });
  service.post(
    '/svc/whoami',
    { schema: { response: { 200: z.object({ ip: z.string(), forwardedFor: z.string().optional() }) } } },
    (request) => ({ ip: request.ip, forwardedFor: request.headers['x-forwarded-for'] as string | undefined }),
  );
  service.post('/svc/ping', { schema: { response: { 200: z.object({ ok: z.boolean() }) } } }, () => ({
    ok: true,
  }));
  service.post(
    '/svc/named',
    { schema: { body: z.object({ name: z.string() }), response: { 200: z.object({ name: z.string() }) } } },
    (request) => ({ name: request.body.name }),
  );
  await service.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => service.close());
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('X-Forwarded-For through the gateway', () => {
  it('is replaced by the client’s real address: a spoofed one never reaches the service', async () => {
    const gateway = await startGateway();
    const response = await fetch(`${gateway}/svc/whoami`, {
      method: 'POST',
      headers: {
        'x-forwarded-for': '203.0.113.66',
        forwarded: 'for=203.0.113.66',
        'x-real-ip': '203.0.113.66',
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ip: '127.0.0.1', forwardedFor: '127.0.0.1' });
  });

  it('behind a trusted proxy, carries the nearest address that proxy did not add, and nothing a client chose', async () => {
    // The test client stands for the load balancer on 127.0.0.1; 198.51.100.7 is what it saw.
    const gateway = await startGateway({ trustProxy: '127.0.0.1' });
    const response = await fetch(`${gateway}/svc/whoami`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '203.0.113.66, 198.51.100.7' },
    });
    expect(await response.json()).toEqual({ ip: '198.51.100.7', forwardedFor: '198.51.100.7' });
  });

  it('behind one proxy counted by hops, carries the hop that proxy saw, not what the client wrote before it', async () => {
    const gateway = await startGateway({ trustProxy: 1 });
    const response = await fetch(`${gateway}/svc/whoami`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '203.0.113.66, 10.0.0.1, 198.51.100.7' },
    });
    expect(await response.json()).toEqual({ ip: '198.51.100.7', forwardedFor: '198.51.100.7' });
  });
});

describe('an empty JSON body through the gateway', () => {
  it('is accepted on a route that takes no body, as many clients send it', async () => {
    const gateway = await startGateway();
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', 'content-length': '0' },
      { 'content-type': 'application/json; charset=utf-8' },
    ]) {
      const response = await fetch(`${gateway}/svc/ping`, { method: 'POST', headers });
      expect([response.status, await response.json()], JSON.stringify(headers)).toEqual([200, { ok: true }]);
    }
  });

  it('still gets the service’s 400 on a route that needs a body', async () => {
    const gateway = await startGateway();
    const response = await fetch(`${gateway}/svc/named`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
