import { z } from 'zod';

/**
 * Gateway configuration, parsed once from the environment. Anything invalid fails fast with a
 * message naming the variable, e.g. `GATEWAY_ROUTES[1].upstream: expected an http(s) origin`.
 */

/** Paths the gateway answers itself; no route prefix may claim them. */
export const RESERVED_PREFIXES = ['/healthz', '/readyz', '/docs'] as const;

export interface RouteConfig {
  /** Service name, used in logs, docs tags and readiness output, e.g. `identity`. */
  readonly service: string;
  /**
   * Public path prefix, e.g. `/auth`, or a pattern with `:name` segments, e.g.
   * `/api/v1/companies/:id/credits`. Forwarded unchanged: the upstream sees the full path.
   */
  readonly prefix: string;
  /** Upstream origin, e.g. `http://127.0.0.1:4001`. */
  readonly upstream: string;
}

/** One upstream service instance and every prefix routed to it. */
export interface ServiceTarget {
  readonly name: string;
  readonly upstream: string;
  readonly prefixes: readonly string[];
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type NodeEnv = 'development' | 'test' | 'production';

export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  /** Where Prometheus scrapes `GET /metrics` (on `host`), apart from the public port; none when unset. */
  readonly metricsPort?: number;
  readonly routes: readonly RouteConfig[];
  readonly rateLimit: {
    /** Requests per client IP per window. */
    readonly max: number;
    readonly timeWindowMs: number;
  };
  /** `'*'` allows any origin; an empty list disables CORS. */
  readonly corsOrigins: '*' | readonly string[];
  /** Fastify `trustProxy`: false, a hop count or a comma list of addresses/CIDRs (never `true`). */
  readonly trustProxy: false | number | string;
  /** Headers and body timeout for proxied requests. */
  readonly upstreamTimeoutMs: number;
  /** Largest request body in bytes on a proxied route, unless it is an upload route. */
  readonly bodyLimit: number;
  /** Upload routes: larger bodies, streamed through and never buffered. */
  readonly uploads: {
    /**
     * Path patterns (`*` or `:name` for one segment) of upload routes: the path itself and
     * everything under it, e.g. `/api/v1/submissions/*\/media`.
     */
    readonly paths: readonly string[];
    readonly bodyLimit: number;
  };
  /** Timeout for the gateway's own probes of upstreams (`/healthz`, `/docs/json`). */
  readonly probeTimeoutMs: number;
  /** How long the merged OpenAPI document is cached. */
  readonly docsCacheMs: number;
  readonly logLevel: LogLevel;
  readonly nodeEnv: NodeEnv;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
// One or more segments, each RFC 3986 unreserved characters or a `:name` parameter (one service's
// routes nested under another's, e.g. the ledger's `/api/v1/companies/:id/credits` beside identity's
// `/api/v1/companies`), no trailing slash. The router prefers a static segment, then a parameter,
// then a shorter prefix, so the most specific pattern wins.
const PREFIX = /^(\/([A-Za-z0-9._~-]+|:[A-Za-z][A-Za-z0-9_]*))+$/;
// An upload route pattern: as a prefix, and `*` may stand for one segment.
const UPLOAD_PATH = /^(\/([A-Za-z0-9._~-]+|:[A-Za-z][A-Za-z0-9_]*|\*))+$/;
export const DEFAULT_BODY_LIMIT = 1_048_576;
export const DEFAULT_UPLOAD_BODY_LIMIT = 52_428_800;
export const DEFAULT_UPLOAD_PATHS = ['/api/v1/media', '/api/v1/submissions/*/media'] as const;

const intFromEnv = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const routeSchema = z.object({
  service: z.string().regex(SERVICE_NAME, 'expected a lowercase service name such as "identity"'),
  prefix: z
    .string()
    .regex(
      PREFIX,
      'expected a path prefix such as "/auth" or "/api/v1/companies/:id/credits" (no trailing slash)',
    )
    .refine(
      (prefix) => !RESERVED_PREFIXES.some((r) => prefix === r || prefix.startsWith(`${r}/`)),
      `must not be one of the gateway's own paths (${RESERVED_PREFIXES.join(', ')})`,
    ),
  upstream: z
    .string()
    .refine((value) => {
      try {
        const url = new URL(value);
        return (
          (url.protocol === 'http:' || url.protocol === 'https:') &&
          url.pathname === '/' &&
          !url.search &&
          !url.hash &&
          !url.username &&
          !url.password
        );
      } catch {
        return false;
      }
    }, 'expected an http(s) origin such as "http://127.0.0.1:4001" (no path)')
    .transform((value) => new URL(value).origin),
});

const routesSchema = z
  .string()
  .transform((raw, ctx): unknown => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {service, prefix, upstream}' });
      return z.NEVER;
    }
  })
  .pipe(z.array(routeSchema))
  .superRefine((routes, ctx) => {
    const prefixes = new Set<string>();
    const upstreamOfService = new Map<string, string>();
    const serviceOfUpstream = new Map<string, string>();
    routes.forEach((route, index) => {
      if (prefixes.has(route.prefix)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'prefix'],
          message: `duplicate prefix "${route.prefix}"`,
        });
      }
      prefixes.add(route.prefix);
      const upstream = upstreamOfService.get(route.service);
      if (upstream !== undefined && upstream !== route.upstream) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'upstream'],
          message: `service "${route.service}" is already routed to ${upstream}; one upstream per service`,
        });
      }
      upstreamOfService.set(route.service, route.upstream);
      const service = serviceOfUpstream.get(route.upstream);
      if (service !== undefined && service !== route.service) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'service'],
          message: `upstream ${route.upstream} already serves "${service}"; one service per upstream`,
        });
      }
      serviceOfUpstream.set(route.upstream, route.service);
    });
  });

const corsSchema = z
  .string()
  .trim()
  .transform((raw, ctx): '*' | string[] => {
    if (raw === '*') return '*';
    const origins = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const origin of origins) {
      let valid = false;
      try {
        valid = new URL(origin).origin === origin;
      } catch {
        valid = false;
      }
      if (!valid) {
        ctx.addIssue({
          code: 'custom',
          message: `"${origin}" is not an origin such as "https://app.example.com"`,
        });
        return z.NEVER;
      }
    }
    return origins;
  });

const uploadPathsSchema = z
  .string()
  .transform((raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(
          UPLOAD_PATH,
          'expected path patterns such as "/api/v1/submissions/*/media" (no trailing slash)',
        ),
    ),
  );

// `true` is refused: trusting every hop makes the leftmost X-Forwarded-For entry, which the client
// writes, its address (per-IP limits and the services' client address become the client's choice).
const trustProxySchema = z
  .string()
  .trim()
  .refine((raw) => raw !== 'true', {
    message: 'true would let any client choose its address: give the hop count or the proxies’ addresses',
  })
  .transform((raw): false | number | string => {
    if (raw === '' || raw === 'false') return false;
    if (/^\d+$/.test(raw)) return Number(raw);
    return raw;
  });

const envSchema = z.object({
  GATEWAY_PORT: intFromEnv(0, 65535).default(8080),
  GATEWAY_HOST: z.string().trim().min(1).default('127.0.0.1'),
  GATEWAY_METRICS_PORT: intFromEnv(0, 65535).optional(),
  GATEWAY_ROUTES: routesSchema.default([]),
  GATEWAY_RATE_LIMIT_MAX: intFromEnv(1, 1_000_000).default(600),
  GATEWAY_CORS_ORIGINS: corsSchema.optional(),
  GATEWAY_TRUST_PROXY: trustProxySchema.default(false),
  GATEWAY_UPSTREAM_TIMEOUT_MS: intFromEnv(1, 600_000).default(30_000),
  GATEWAY_BODY_LIMIT: intFromEnv(0, 1_073_741_824).default(DEFAULT_BODY_LIMIT),
  GATEWAY_UPLOAD_PATHS: uploadPathsSchema.default([...DEFAULT_UPLOAD_PATHS]),
  GATEWAY_UPLOAD_BODY_LIMIT: intFromEnv(0, 1_073_741_824).default(DEFAULT_UPLOAD_BODY_LIMIT),
  GATEWAY_DOCS_CACHE_MS: intFromEnv(0, 3_600_000).default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // No default: a gateway that forgot it must not start with development's open CORS.
  NODE_ENV: z.enum(['development', 'test', 'production'], {
    error: (issue) =>
      issue.input === undefined
        ? 'is required: development, test or production'
        : 'must be development, test or production',
  }),
});

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const [variable, ...rest] = issue.path;
      const where = rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `${String(variable)}${where}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses the gateway configuration from an environment; throws a {@link ConfigError} naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  // Treat empty variables as unset so `FOO=` in a compose file falls back to the default.
  const present = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value.trim() === '' ? [] : [[key, value]];
    }),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(`Invalid gateway configuration: ${formatIssues(parsed.error.issues)}`);
  }
  const e = parsed.data;
  return {
    port: e.GATEWAY_PORT,
    host: e.GATEWAY_HOST,
    ...(e.GATEWAY_METRICS_PORT !== undefined ? { metricsPort: e.GATEWAY_METRICS_PORT } : {}),
    routes: e.GATEWAY_ROUTES,
    rateLimit: { max: e.GATEWAY_RATE_LIMIT_MAX, timeWindowMs: 60_000 },
    // Unset: any origin in development and test, none in production (set the list explicitly there).
    corsOrigins: e.GATEWAY_CORS_ORIGINS ?? (e.NODE_ENV === 'production' ? [] : '*'),
    trustProxy: e.GATEWAY_TRUST_PROXY,
    upstreamTimeoutMs: e.GATEWAY_UPSTREAM_TIMEOUT_MS,
    bodyLimit: e.GATEWAY_BODY_LIMIT,
    uploads: { paths: e.GATEWAY_UPLOAD_PATHS, bodyLimit: e.GATEWAY_UPLOAD_BODY_LIMIT },
    probeTimeoutMs: 2_000,
    docsCacheMs: e.GATEWAY_DOCS_CACHE_MS,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
  };
}

/** Groups routes by service, in the order services first appear. */
export function serviceTargets(routes: readonly RouteConfig[]): ServiceTarget[] {
  const byName = new Map<string, { name: string; upstream: string; prefixes: string[] }>();
  for (const route of routes) {
    const target = byName.get(route.service);
    if (target) target.prefixes.push(route.prefix);
    else
      byName.set(route.service, { name: route.service, upstream: route.upstream, prefixes: [route.prefix] });
  }
  return [...byName.values()];
}
