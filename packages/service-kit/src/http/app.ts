import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import underPressure from '@fastify/under-pressure';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from '../logger.ts';
import { type TokenVerifier, registerAuth } from './auth.ts';
import { sendProblem, toProblem } from './errors.ts';
import { problemType, PROBLEM_CONTENT_TYPE } from './problem.ts';
import { findUnstorableText } from './text-safety.ts';
import { refusal } from '../refusal.ts';
import type { ServiceMetrics } from '../metrics/service-metrics.ts';
import { registerTracing } from '../tracing/http-tracing.ts';
import type { Tracing } from '../tracing/tracing.ts';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface ReadinessCheck {
  name: string;
  check: () => Promise<unknown>;
}

export interface HttpAppOptions {
  name: string;
  version?: string;
  description?: string;
  logger: Logger;
  /** Verifies bearer tokens; routes then use `app.authenticate` / `requireRole`. */
  tokens?: TokenVerifier;
  readiness?: ReadinessCheck[];
  /** Requests per IP per minute; `false` turns the limiter off (behind a gateway that limits). */
  rateLimitMax?: number | false;
  bodyLimit?: number;
  /** Peers trusted to set X-Forwarded-For (the gateway); see TRUST_PROXY. */
  trustProxy?: string | boolean;
  /** Request latencies go there, and `GET /metrics` exposes the registry (internal port only). */
  metrics?: ServiceMetrics;
  /** Each request then runs in a server span continuing the caller's `traceparent`. */
  tracing?: Tracing;
  /** Above this mean event-loop delay over the last second, requests get 503 OVERLOADED (2000 ms). */
  maxEventLoopDelayMs?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const READINESS_TIMEOUT_MS = 2_000;

/**
 * The fastify app every service starts from: zod-typed routes with OpenAPI,
 * problem+json errors, request ids, security headers, rate and load limits,
 * health and readiness, and token verification.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  // Typed as fastify's base logger so the app's type stays the plain HttpApp.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    trustProxy: options.trustProxy ?? false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();

  // JSON APIs: a text body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');
  // Many clients send `content-type: application/json` with no body on a route that takes none:
  // an empty body is no body (a route that needs one still answers its validation 400).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // `parseAs: 'string'` hands a string; the type admits a Buffer.
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // First: every later hook, the handler and its log lines run inside the request's span.
  if (options.tracing) registerTracing(app, options.tracing);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const { metrics } = options;
  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      // The route's pattern, never the raw URL: one series per route, whatever the ids in it.
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.http.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }

  app.addHook('preValidation', async (request) => {
    const where =
      findUnstorableText(request.params, 'path') ??
      findUnstorableText(request.query, 'query') ??
      findUnstorableText(request.body, 'body');
    if (where) {
      throw refusal(
        'invalid',
        'INVALID_CHARACTERS',
        `${where} holds a NUL character or an unpaired UTF-16 surrogate, which no field accepts.`,
      );
    }
  });

  app.setErrorHandler((error: Error, request, reply) => {
    const body = toProblem(error, request);
    if (body.code === 'SERVICE_UNAVAILABLE' || body.code === 'TRY_AGAIN') {
      // Worth sending again (with its Idempotency-Key, in case a commit went through before the connection died).
      request.log.warn({ err: error, code: body.code }, 'request failed: a store is unavailable or collided');
      void reply.header('retry-after', '1');
    } else if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, 'request refused');
    return sendProblem(reply, body);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: problemType('NOT_FOUND'),
      title: 'Not Found',
      status: 404,
      code: 'NOT_FOUND',
      detail: `No route ${request.method} ${request.url.split('?')[0]}.`,
      instance: request.url,
      request_id: request.id,
    }),
  );

  await app.register(helmet, { contentSecurityPolicy: false });
  if (options.rateLimitMax !== false) {
    await app.register(rateLimit, { max: options.rateLimitMax ?? 1000, timeWindow: '1 minute' });
  }
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs ?? 2_000,
    retryAfter: 5,
    pressureHandler: (request, reply) => {
      void reply
        .code(503)
        .header('retry-after', '5')
        .type(PROBLEM_CONTENT_TYPE)
        .send({
          type: problemType('OVERLOADED'),
          title: 'Service Unavailable',
          status: 503,
          code: 'OVERLOADED',
          detail: 'The service is overloaded; retry shortly.',
          request_id: request.id,
        });
    },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.name,
        version: options.version ?? '0.1.0',
        description: options.description ?? '',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
  });

  registerAuth(app, options.tokens);

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  if (metrics) {
    // Prometheus scrapes the service's own port; the gateway routes only API prefixes, so this
    // is not reachable from outside.
    app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (_, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
  }
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const results = await Promise.all(
      (options.readiness ?? []).map(async ({ name, check }) => {
        try {
          await withTimeout(check(), READINESS_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          request.log.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'failing'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = results.every(([, state]) => state === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
