import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  createHttpApp,
  createLogger,
  createServiceMetrics,
  createTracing,
  type HttpApp,
  type ServiceMetrics,
  SpanKind,
  TRACE_RESPONSE_HEADER,
  type Tracing,
} from '@tessera/service-kit';
import { InMemorySpanExporter } from '@tessera/service-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildGateway } from './app.ts';
import { loadConfig } from './config.ts';

// Client -> gateway -> a service app as the kit builds it, each with its own tracing, over HTTP.

const serviceSpans = new InMemorySpanExporter();
const gatewaySpans = new InMemorySpanExporter();
let serviceTracing: Tracing;
let gatewayTracing: Tracing;
let metrics: ServiceMetrics;
let service: HttpApp;
let gateway: FastifyInstance;
let base: string;
/** The traceparent each request reached the service with. */
const received: (string | undefined)[] = [];

beforeAll(async () => {
  serviceTracing = createTracing({ serviceName: 'svc', exporter: serviceSpans });
  gatewayTracing = createTracing({ serviceName: 'gateway', exporter: gatewaySpans });
  service = await createHttpApp({
    name: 'svc',
    logger: createLogger({ name: 'svc', level: 'silent', pretty: false }),
    rateLimitMax: false,
    tracing: serviceTracing,
  });
  service.get(
    '/svc/items/:id',
    { schema: { params: z.object({ id: z.string() }), response: { 200: z.object({ id: z.string() }) } } },
    (request) => {
      received.push(request.headers.traceparent as string | undefined);
      return { id: request.params.id };
    },
  );
  await service.listen({ port: 0, host: '127.0.0.1' });
  const upstream = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;

  metrics = createServiceMetrics('gateway', { processMetrics: false });
  gateway = await buildGateway(
    loadConfig({
      NODE_ENV: 'test',
      GATEWAY_ROUTES: JSON.stringify([{ service: 'svc', prefix: '/svc', upstream }]),
    }),
    { logger: false, metrics, tracing: gatewayTracing },
  );
  await gateway.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.close();
  await service?.close();
  await serviceTracing?.shutdown();
  await gatewayTracing?.shutdown();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('a trace through the gateway', () => {
  it("continues the client's traceparent: client → gateway span → service span, one trace", async () => {
    const traceId = hex(16);
    const clientSpan = hex(8);
    const response = await fetch(`${base}/svc/items/a-1`, {
      headers: { traceparent: `00-${traceId}-${clientSpan}-01` },
    });
    expect(response.status).toBe(200);
    const [, answeredTrace, gatewaySpan] = (response.headers.get(TRACE_RESPONSE_HEADER) ?? '').split('-');
    expect(answeredTrace).toBe(traceId);
    // The service saw the gateway's span as its parent, not the client's.
    expect(received.at(-1)).toBe(`00-${traceId}-${gatewaySpan}-01`);

    await gatewayTracing.flush();
    await serviceTracing.flush();
    const inGateway = gatewaySpans.getFinishedSpans().find((s) => s.spanContext().spanId === gatewaySpan);
    expect(inGateway?.kind).toBe(SpanKind.SERVER);
    expect(inGateway?.parentSpanContext?.spanId).toBe(clientSpan);
    const inService = serviceSpans.getFinishedSpans().find((s) => s.spanContext().traceId === traceId);
    expect(inService?.name).toBe('GET /svc/items/:id');
    expect(inService?.parentSpanContext?.spanId).toBe(gatewaySpan);
  });

  it('starts the trace itself when the client sends none', async () => {
    const response = await fetch(`${base}/svc/items/a-2`);
    const answered = response.headers.get(TRACE_RESPONSE_HEADER) ?? '';
    expect(answered).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(received.at(-1)).toBe(answered);
  });
});

describe('the gateway’s metrics', () => {
  /** The count of one series of the request histogram. */
  async function requests(labels: Record<string, string>): Promise<number> {
    const metric = await metrics.registry.getSingleMetric('http_request_duration_seconds')?.get();
    const values = (metric?.values ?? []) as {
      metricName?: string;
      labels: Record<string, unknown>;
      value: number;
    }[];
    const series = values.find(
      (v) =>
        v.metricName === 'http_request_duration_seconds_count' &&
        Object.entries(labels).every(([key, value]) => v.labels[key] === value),
    );
    return series?.value ?? 0;
  }

  it('times proxied requests by mount pattern and status, never by raw URL', async () => {
    const ok = { method: 'GET', route: '/svc/*', status_code: '200' };
    const before = await requests(ok);
    await fetch(`${base}/svc/items/b-1`);
    await fetch(`${base}/svc/items/b-2`);
    await fetch(`${base}/nowhere/b-3`);
    expect(await requests(ok)).toBe(before + 2);
    expect(await requests({ route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('b-1');
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*service="gateway"/);
  });
});
