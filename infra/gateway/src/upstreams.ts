import type { FastifyBaseLogger } from 'fastify';
import type { ServiceTarget } from './config.ts';
import {
  mergeOpenApiDocuments,
  type MergeOptions,
  type OpenApiDocument,
  type ServiceDocument,
} from './openapi-merge.ts';

export type FetchFn = typeof fetch;

export type ProbeResult =
  | { readonly ok: true; readonly status: number; readonly body: unknown }
  | { readonly ok: false; readonly reason: string };

/**
 * GETs `path` on an upstream with a timeout. Never throws; the failure reason is safe to publish
 * (`unreachable`, `timeout`, `HTTP 503`, `invalid JSON`) while details go to the log.
 */
export async function probe(
  target: ServiceTarget,
  path: string,
  opts: { timeoutMs: number; fetch: FetchFn; log: FastifyBaseLogger; json?: boolean },
): Promise<ProbeResult> {
  const url = new URL(path, target.upstream).href;
  try {
    const res = await opts.fetch(url, {
      headers: { accept: opts.json ? 'application/json' : '*/*' },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, reason: `HTTP ${res.status}` };
    }
    if (!opts.json) {
      await res.body?.cancel();
      return { ok: true, status: res.status, body: undefined };
    }
    try {
      return { ok: true, status: res.status, body: await res.json() };
    } catch (err) {
      opts.log.warn({ err, service: target.name, url }, 'upstream returned invalid JSON');
      return { ok: false, reason: 'invalid JSON' };
    }
  } catch (err) {
    const timedOut =
      err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError');
    opts.log.warn({ err, service: target.name, url }, 'upstream probe failed');
    return { ok: false, reason: timedOut ? 'timeout' : 'unreachable' };
  }
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly services: Record<string, { status: 'up' | 'down'; reason?: string }>;
}

/** Probes every upstream's `/healthz` concurrently. */
export async function checkReadiness(
  targets: readonly ServiceTarget[],
  opts: { timeoutMs: number; fetch: FetchFn; log: FastifyBaseLogger },
): Promise<ReadinessReport> {
  const results = await Promise.all(
    targets.map(async (t) => [t.name, await probe(t, '/healthz', opts)] as const),
  );
  const services: ReadinessReport['services'] = {};
  for (const [name, result] of results) {
    services[name] = result.ok ? { status: 'up' } : { status: 'down', reason: result.reason };
  }
  return { ready: results.every(([, r]) => r.ok), services };
}

/**
 * Fetches every upstream's `/docs/json` and merges them, caching the result for `cacheMs`.
 * Concurrent callers share one in-flight refresh. Never rejects: a service that cannot be fetched
 * is reported in the document's `x-unavailable-services`.
 */
export function createDocsProvider(opts: {
  targets: readonly ServiceTarget[];
  cacheMs: number;
  timeoutMs: number;
  fetch: FetchFn;
  log: FastifyBaseLogger;
  merge: MergeOptions;
}): { get(): Promise<OpenApiDocument> } {
  let cached: { doc: OpenApiDocument; expiresAt: number } | undefined;
  let inflight: Promise<OpenApiDocument> | undefined;
  let reportedUndocumented = '';

  /** Forwarded prefixes nobody documents are worth a warning, once per change. */
  function reportUndocumented(doc: OpenApiDocument): void {
    const undocumented = doc['x-undocumented-prefixes'] ?? [];
    const key = JSON.stringify(undocumented);
    if (key === reportedUndocumented) return;
    reportedUndocumented = key;
    if (undocumented.length > 0) {
      opts.log.warn(
        { undocumented: undocumented.map((u) => `${u.prefix} (${u.service})`) },
        'forwarded prefixes without a documented operation',
      );
    }
  }

  async function build(): Promise<OpenApiDocument> {
    const sources = await Promise.all(
      opts.targets.map(async (target): Promise<ServiceDocument> => {
        const result = await probe(target, '/docs/json', { ...opts, json: true });
        return result.ok
          ? { service: target.name, prefixes: target.prefixes, document: result.body }
          : { service: target.name, prefixes: target.prefixes, unavailableReason: result.reason };
      }),
    );
    try {
      return mergeOpenApiDocuments(sources, opts.merge);
    } catch (err) {
      // The merge is pure and defensive; should a document still break it, serve the gateway's own.
      opts.log.error({ err }, 'merging OpenAPI documents failed');
      return mergeOpenApiDocuments(
        opts.targets.map((t) => ({
          service: t.name,
          prefixes: t.prefixes,
          unavailableReason: 'merge failed',
        })),
        opts.merge,
      );
    }
  }

  return {
    get() {
      if (cached && cached.expiresAt > Date.now()) return Promise.resolve(cached.doc);
      inflight ??= build()
        .then((doc) => {
          reportUndocumented(doc);
          cached = { doc, expiresAt: Date.now() + opts.cacheMs };
          return doc;
        })
        .finally(() => {
          inflight = undefined;
        });
      return inflight;
    },
  };
}
