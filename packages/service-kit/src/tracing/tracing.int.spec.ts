import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { buildEvent, subjectFor } from '@tessera/contracts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiagnosticsDB, diagnostics } from '../__fixtures__/diagnostics-service.ts';
import { createTokenVerifier } from '../http/auth.ts';
import { loggerOptions } from '../logger.ts';
import { type RunningService, startService } from '../service.ts';
import { createTestIssuer, testServiceConfig, waitForHandled } from '../testing/index.ts';
import { TRACE_RESPONSE_HEADER } from './http-tracing.ts';
import { createTracing, SpanKind as KitSpanKind, startSpan, type Tracing } from './tracing.ts';

let service: RunningService<DiagnosticsDB>;
let drop: () => Promise<void>;
let issuer: Awaited<ReturnType<typeof createTestIssuer>>;
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
/** Every log line the service wrote, parsed. */
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  const test = await testServiceConfig('diagnostics');
  drop = test.drop;
  tracing = createTracing({ serviceName: 'diagnostics', exporter });
  const logger = pino(loggerOptions({ name: 'diagnostics', level: 'debug', pretty: false }), {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  service = await startService(diagnostics, test.config, {
    logger,
    tracing,
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
    relayPollIntervalMs: 50,
  });
});

afterAll(async () => {
  await service?.stop();
  await tracing?.shutdown();
  await drop?.();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function record(id: string, headers: Record<string, string> = {}) {
  const token = await issuer.token({ role: 'contributor' });
  return service.app.inject({
    method: 'POST',
    url: '/api/v1/probes',
    headers: { authorization: `Bearer ${token}`, ...headers },
    payload: { id },
  });
}

async function outboxRow(subject: string) {
  return service.db
    .selectFrom('outbox')
    .select(['event_id', 'payload'])
    .where('subject', '=', subject)
    .executeTakeFirstOrThrow();
}

describe('a trace from an HTTP request into the consumer of the event it caused', () => {
  it("continues the caller's traceparent through the outbox and NATS into the consumer's log line", async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const response = await record('t-1', { traceparent: `00-${traceId}-${callerSpan}-01` });
    expect(response.statusCode).toBe(201);
    const [, answeredTrace, serverSpan] = String(response.headers[TRACE_RESPONSE_HEADER]).split('-');
    expect(answeredTrace).toBe(traceId);

    // The event was written inside the request's span: it carries that span as its parent.
    const row = await outboxRow('t-1');
    expect((row.payload as { traceparent?: string }).traceparent).toBe(`00-${traceId}-${serverSpan}-01`);

    await waitForHandled(service.db, 'diagnostics-tally', row.event_id);
    const applied = lines.find((line) => line.msg === 'event applied' && line.event_id === row.event_id);
    expect(applied).toMatchObject({ trace_id: traceId, consumer: 'diagnostics-tally' });
    // The request's own log lines carry the trace too.
    expect(
      lines.some((line) => line.trace_id === traceId && line.reqId === response.headers['x-request-id']),
    ).toBe(true);

    await tracing.flush();
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    const server = spans.find((span) => span.kind === SpanKind.SERVER);
    const consumer = spans.find((span) => span.kind === SpanKind.CONSUMER);
    expect(server?.name).toBe('POST /api/v1/probes');
    expect(server?.parentSpanContext?.spanId).toBe(callerSpan);
    expect(server?.attributes['http.response.status_code']).toBe(201);
    expect(consumer?.name).toBe('diagnostics.probe.recorded.v1 process');
    expect(consumer?.parentSpanContext?.spanId).toBe(serverSpan);
    expect(consumer?.attributes['messaging.message.id']).toBe(row.event_id);
  });

  it('starts a new trace when the request brings none, and publishes the traceparent as a NATS header', async () => {
    const subject = subjectFor('diagnostics.probe.recorded.v1', service.bus.ns);
    const seen: { traceparent?: string; header?: string }[] = [];
    const subscription = service.bus.nc.subscribe(subject, {
      callback: (_error, msg) => {
        const payload = msg.json<{ subject: string; traceparent?: string }>();
        if (payload.subject === 't-2')
          seen.push({ traceparent: payload.traceparent, header: msg.headers?.get('traceparent') });
      },
    });
    await service.bus.nc.flush();

    const response = await record('t-2');
    expect(response.statusCode).toBe(201);
    const answered = String(response.headers[TRACE_RESPONSE_HEADER]);
    expect(answered).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const row = await outboxRow('t-2');
    expect((row.payload as { traceparent?: string }).traceparent).toBe(answered);
    await waitForHandled(service.db, 'diagnostics-tally', row.event_id);
    subscription.unsubscribe();
    expect(seen).toEqual([{ traceparent: answered, header: answered }]);
    const applied = lines.find((line) => line.msg === 'event applied' && line.event_id === row.event_id);
    expect(applied?.trace_id).toBe(answered.split('-')[1]);
  });

  it("continues a NATS header's trace when the envelope carries none", async () => {
    const traceId = hex(16);
    const event = buildEvent('diagnostics.probe.recorded.v1', { probe_id: 't-4' }, { subject: 't-4' });
    expect(event).not.toHaveProperty('traceparent');
    const headers = natsHeaders();
    headers.set('traceparent', `00-${traceId}-${hex(8)}-01`);
    await service.bus.js.publish(subjectFor(event.type, service.bus.ns), JSON.stringify(event), {
      msgID: event.id,
      headers,
    });
    await waitForHandled(service.db, 'diagnostics-tally', event.id);
    const applied = lines.find((line) => line.msg === 'event applied' && line.event_id === event.id);
    expect(applied?.trace_id).toBe(traceId);
  });

  it('ignores a malformed traceparent and starts its own trace', async () => {
    const response = await record('t-3', { traceparent: '00-nothex-xx-01' });
    expect(response.statusCode).toBe(201);
    expect(String(response.headers[TRACE_RESPONSE_HEADER])).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('OTEL_SDK_DISABLED=true', () => {
  it('traces nothing: no span answered, no traceparent on the events, no trace on log lines', async () => {
    const test = await testServiceConfig('diagnostics');
    const quiet: Record<string, unknown>[] = [];
    const disabled = await startService(diagnostics, test.config, {
      logger: pino(loggerOptions({ name: 'diagnostics', level: 'debug', pretty: false }), {
        write: (line: string) => void quiet.push(JSON.parse(line) as Record<string, unknown>),
      }),
      tracing: createTracing({ serviceName: 'diagnostics', env: { OTEL_SDK_DISABLED: 'true' } }),
      tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
      relayPollIntervalMs: 50,
    });
    try {
      const response = await disabled.app.inject({
        method: 'POST',
        url: '/api/v1/probes',
        headers: {
          authorization: `Bearer ${await issuer.token({ role: 'contributor' })}`,
          traceparent: `00-${hex(16)}-${hex(8)}-01`,
        },
        payload: { id: 'off-1' },
      });
      expect(response.statusCode).toBe(201);
      expect(response.headers[TRACE_RESPONSE_HEADER]).toBeUndefined();
      const row = await disabled.db
        .selectFrom('outbox')
        .select(['event_id', 'payload'])
        .where('subject', '=', 'off-1')
        .executeTakeFirstOrThrow();
      expect(row.payload).not.toHaveProperty('traceparent');
      await waitForHandled(disabled.db, 'diagnostics-tally', row.event_id);
      expect(quiet.some((line) => line.msg === 'event applied' && line.event_id === row.event_id)).toBe(true);
      expect(quiet.filter((line) => 'trace_id' in line)).toEqual([]);
    } finally {
      await disabled.stop();
      await test.drop();
    }
  });
});

describe('span export', () => {
  let receiver: Server;
  let bodies: string[];
  let url: string;

  beforeAll(async () => {
    bodies = [];
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(`${request.method} ${request.url} ${request.headers['content-type']} ${body}`);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('sends spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const exported = createTracing({ serviceName: 'probe', env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${url}/` } });
    const span = startSpan(exported, 'probe work', { kind: KitSpanKind.INTERNAL });
    span.end();
    await exported.flush();
    await exported.shutdown();
    const traceId = span.spanContext().traceId;
    const sent = bodies.find((body) => body.includes(traceId));
    expect(sent).toMatch(/^POST \/v1\/traces application\/json /);
    expect(sent).toContain('"probe work"');
    expect(sent).toContain('"probe"'); // service.name
  });

  it('sends nothing when OTEL_TRACES_EXPORTER=none, even with an endpoint', async () => {
    const before = bodies.length;
    const silent = createTracing({
      serviceName: 'probe',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_TRACES_EXPORTER: 'none' },
    });
    const span = startSpan(silent, 'unsent work', { kind: KitSpanKind.INTERNAL });
    span.end();
    await silent.flush();
    await silent.shutdown();
    // The span still has ids to hand on (traceparent, log lines): only the export is off.
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(bodies.length).toBe(before);
  });
});
