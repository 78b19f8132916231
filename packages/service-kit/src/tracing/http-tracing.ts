import type { Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { failSpan, SpanKind, startSpan, traceparentOf, type Tracing, withSpan } from './tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    traceSpan?: Span;
  }
}

/** Sent back on every answer: the server span's traceparent (W3C Trace Context level 2). */
export const TRACE_RESPONSE_HEADER = 'traceresponse';

/**
 * A server span per request, continuing the caller's W3C `traceparent` (the gateway's span), named
 * by the route's pattern. The rest of the request runs inside it (`done` is called within the
 * span's async context, as @fastify/request-context does), so its log lines and the events it
 * writes carry the trace.
 */
export function registerTracing(app: FastifyInstance, tracing: Tracing): void {
  app.addHook('onRequest', (request, reply, done) => {
    const header = request.headers.traceparent;
    const route = request.routeOptions.url;
    const span = startSpan(tracing, route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      traceparent: typeof header === 'string' ? header : undefined,
      attributes: {
        'http.request.method': request.method,
        ...(route ? { 'http.route': route } : {}),
        'url.path': request.url.split('?', 1)[0] ?? request.url,
      },
    });
    request.traceSpan = span;
    const traceparent = traceparentOf(span);
    if (traceparent) void reply.header(TRACE_RESPONSE_HEADER, traceparent);
    withSpan(span, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = request.traceSpan;
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) failSpan(span, new Error(`HTTP ${reply.statusCode}`));
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    request.traceSpan?.end();
    done();
  });
}
