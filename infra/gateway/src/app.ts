import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger, { type StaticDocumentSpec } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyLoggerOptions,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import pkg from '../package.json' with { type: 'json' };
import { type GatewayConfig, serviceTargets } from './config.ts';
import type { MergeOptions, OpenApiDocument } from './openapi-merge.ts';
import { mergeOpenApiDocuments } from './openapi-merge.ts';
import { batchedStdout, type LogStream } from './log-stream.ts';
import { codeForStatus, GatewayError, problem, PROBLEM_CONTENT_TYPE } from './problem.ts';
import { DASHBOARD_DOC, DASHBOARD_PATH, registerDashboard } from './dashboard.ts';
import { handleExpectContinue, proxyMounts, registerProxy } from './proxy.ts';
import { checkReadiness, createDocsProvider, type FetchFn } from './upstreams.ts';
import {
  createServiceMetrics,
  loggerOptions,
  processTracing,
  registerTracing,
  type ServiceMetrics,
  TRACE_RESPONSE_HEADER,
  type Tracing,
} from '@tessera/service-kit';

export interface BuildGatewayOptions {
  /** Fastify logger option; defaults to pino at `config.logLevel`. Pass `false` to silence. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Used to probe upstreams (`/healthz`, `/docs/json`); defaults to the global fetch. */
  readonly fetch?: FetchFn;
  /** Request latencies go there; served on the metrics port (src/server.ts), never on the API's. */
  readonly metrics?: ServiceMetrics;
  /** Where spans go; by default the process's tracing, set up from OTEL_* variables. */
  readonly tracing?: Tracing;
}

export const REQUEST_ID_HEADER = 'x-request-id';
/** A sane incoming request id: a short token of URL-safe characters. Anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._~:@+=/-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

const GATEWAY_TAG = 'gateway';

/** The gateway's own operations, as they appear in the merged OpenAPI document. */
const OWN_PATHS = {
  '/healthz': {
    get: {
      tags: [GATEWAY_TAG],
      operationId: 'gateway.healthz',
      summary: 'Liveness of the gateway itself',
      responses: {
        '200': {
          description: 'The gateway is up',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['status'],
                properties: { status: { type: 'string', enum: ['ok'] } },
              },
            },
          },
        },
      },
    },
  },
  [DASHBOARD_PATH]: DASHBOARD_DOC,
  '/readyz': {
    get: {
      tags: [GATEWAY_TAG],
      operationId: 'gateway.readyz',
      summary: "Readiness: every upstream service's /healthz answers",
      responses: {
        '200': {
          description: 'Every upstream is up',
          content: { 'application/json': { schema: readinessSchema() } },
        },
        '503': {
          description: 'At least one upstream is down',
          content: { 'application/json': { schema: readinessSchema() } },
        },
      },
    },
  },
} as const;

function readinessSchema() {
  return {
    type: 'object',
    required: ['status', 'services'],
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      services: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['status'],
          properties: { status: { type: 'string', enum: ['up', 'down'] }, reason: { type: 'string' } },
        },
      },
      down: { type: 'array', items: { type: 'string' } },
    },
  };
}

/**
 * Builds the API gateway: prefix routing to upstream services (full path preserved), request ids,
 * per-IP rate limiting, CORS, problem+json errors, health/readiness, merged OpenAPI docs and UI.
 * The returned instance is ready for `inject` or `listen`.
 */
export async function buildGateway(
  config: GatewayConfig,
  opts: BuildGatewayOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? defaultLogger(config),
    logController: new AccessLog(),
    trustProxy: trustProxyOption(config.trustProxy),
    // The request id is logged as `reqId` on every request-scoped log line.
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
  });
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const targets = serviceTargets(config.routes);

  // `Expect: 100-continue` is answered when the body is wanted, or with the final status.
  handleExpectContinue(app.server);

  // First: a span per request, which the proxy hands upstream as `traceparent`.
  const tracing = opts.tracing ?? processTracing('gateway');
  if (tracing.enabled) registerTracing(app, tracing);
  const metrics = opts.metrics ?? createServiceMetrics('gateway', { processMetrics: false });
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern (a proxied prefix ends in `*`), never the raw URL.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.http.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Every response carries the request id, including errors, 404s, 429s and proxied responses
  // (the proxy writes it over an upstream's own x-request-id).
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });

  app.setErrorHandler((error: FastifyError | GatewayError, request, reply) => {
    if (error instanceof GatewayError) {
      if (error.statusCode >= 500) request.log.warn({ code: error.code }, error.detail);
      return sendProblem(reply, error.statusCode, error.code, error.detail);
    }
    const status =
      typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
        ? error.statusCode
        : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(reply, 500, 'INTERNAL_ERROR', 'An unexpected error occurred.');
    }
    request.log.info({ err: error }, 'request rejected');
    return sendProblem(reply, status, codeForStatus(status), error.message);
  });

  await app.register(cors, {
    origin:
      config.corsOrigins === '*' ? '*' : config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    credentials: config.corsOrigins !== '*',
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: [
      REQUEST_ID_HEADER,
      TRACE_RESPONSE_HEADER,
      'retry-after',
      'location',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ],
    maxAge: 600,
  });

  // Registered (and awaited) before any route so that every later route is limited.
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.timeWindowMs,
    errorResponseBuilder: (_request, context) =>
      new GatewayError(
        context.statusCode,
        context.statusCode === 429 ? 'RATE_LIMITED' : codeForStatus(context.statusCode),
        `Too many requests; retry in ${context.after}.`,
      ),
  });

  app.setNotFoundHandler({ preHandler: app.rateLimit() }, (request, reply) =>
    sendProblem(reply, 404, 'NOT_FOUND', `No route for ${request.method} ${request.url.split('?', 1)[0]}.`),
  );

  // Health endpoints are exempt from rate limiting: orchestrators poll them from one address.
  app.get('/healthz', { config: { rateLimit: false } }, () => ({ status: 'ok' }));
  app.get('/readyz', { config: { rateLimit: false } }, async (request, reply) => {
    const report = await checkReadiness(targets, {
      timeoutMs: config.probeTimeoutMs,
      fetch: fetchFn,
      log: request.log,
    });
    const down = Object.entries(report.services)
      .filter(([, s]) => s.status === 'down')
      .map(([name]) => name);
    return reply
      .code(report.ready ? 200 : 503)
      .send(
        report.ready
          ? { status: 'ok', services: report.services }
          : { status: 'unavailable', services: report.services, down },
      );
  });

  await registerDocs(app, config, targets, fetchFn);
  registerDashboard(app, { targets, timeoutMs: config.probeTimeoutMs, fetch: fetchFn });

  await registerProxy(app, proxyMounts(config), { upstreamTimeoutMs: config.upstreamTimeoutMs });

  return app;
}

/**
 * The access log: one line per request when it is done (fastify's `request completed`, with the
 * request's method, url and client), not a second one when it comes in; health probes left out.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (request.url === '/healthz' || request.url === '/readyz') return;
    if (error) {
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    } else {
      reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}

/** pino as every service configures it; JSON lines are written to stdout in batches. */
function defaultLogger(config: GatewayConfig): FastifyLoggerOptions & { stream?: LogStream } {
  const options = loggerOptions({ name: 'gateway', level: config.logLevel });
  // A pretty-printing transport (a terminal in development) has its own destination.
  return options.transport ? options : { ...options, stream: batchedStdout() };
}

/** Fastify's types omit the hop-count form of `trustProxy`; express it as a function. */
function trustProxyOption(
  value: GatewayConfig['trustProxy'],
): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}

function sendProblem(reply: FastifyReply, status: number, code: string, detail: string): FastifyReply {
  return reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem(status, code, detail, reply.request.id));
}

async function registerDocs(
  app: FastifyInstance,
  config: GatewayConfig,
  targets: ReturnType<typeof serviceTargets>,
  fetchFn: FetchFn,
): Promise<void> {
  const merge: MergeOptions = {
    title: 'Tessera API',
    version: pkg.version,
    description: 'Every Tessera service behind the API gateway. Paths are public paths on this origin.',
    ownPaths: OWN_PATHS,
    ownTag: { name: GATEWAY_TAG, description: 'The API gateway itself' },
  };
  const docs = createDocsProvider({
    targets,
    cacheMs: config.docsCacheMs,
    timeoutMs: config.probeTimeoutMs,
    fetch: fetchFn,
    log: app.log,
    merge,
  });

  // swagger-ui needs @fastify/swagger; static mode with the gateway-only document. The real,
  // merged document is fetched (async) in a UI hook and handed to swagger-ui's own /json and
  // /yaml handlers through transformSpecification (which is synchronous).
  await app.register(swagger, {
    mode: 'static',
    // The structural document type lives in openapi-types, a dependency of @fastify/swagger.
    specification: {
      document: mergeOpenApiDocuments([], merge) as unknown as StaticDocumentSpec['document'],
    },
  });
  const mergedFor = new WeakMap<FastifyRequest, OpenApiDocument>();
  const specRoutes = new Set(['/docs/json', '/docs/yaml']);
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, displayRequestDuration: true },
    theme: { title: 'Tessera API' },
    uiHooks: {
      onRequest: (request, _reply, done) => {
        if (!specRoutes.has(request.routeOptions.url ?? '')) return done();
        docs.get().then(
          (doc) => {
            mergedFor.set(request, doc);
            done();
          },
          (err: Error) => done(err),
        );
      },
    },
    transformSpecificationClone: false,
    transformSpecification: (spec, request) => mergedFor.get(request) ?? spec,
  });
}
