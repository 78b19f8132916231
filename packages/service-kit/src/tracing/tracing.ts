import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Attributes,
  defaultTextMapGetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export { SpanKind };

/**
 * OpenTelemetry tracing without the global API: the kit keeps the active span in its own
 * AsyncLocalStorage, and starts spans from its own provider. Registering the global context manager
 * and provider would be process-wide and once only, which several services (or test files) in one
 * process cannot share; the W3C helpers used here are pure functions of their arguments.
 *
 * A span is always created (its ids travel in `traceparent` and in log lines, so one user action
 * can be followed across services); it is exported over OTLP/HTTP only when
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set, silent otherwise.
 */
export interface Tracing {
  /**
   * False with OTEL_SDK_DISABLED=true: then nothing is traced and the kit never enters its
   * AsyncLocalStorage. On Node 20 an AsyncLocalStorage, once used, slows every `await` in the process
   * (promise hooks): about 10% of the kit pipeline's CPU per event (README: Tracing).
   */
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Sends what is buffered to the exporter (if any). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const active = new AsyncLocalStorage<Span>();
const propagator = new W3CTraceContextPropagator();
let current: Tracing | undefined;

export interface TracingOptions {
  /** `service.name` on every exported span. */
  serviceName: string;
  /** Where spans go; by default OTLP/HTTP when the environment configures an endpoint, else nowhere. */
  exporter?: SpanExporter;
  env?: NodeJS.ProcessEnv;
}

export function createTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const exporter = options.exporter ?? otlpFromEnv(env);
  const spanProcessors: SpanProcessor[] = exporter ? [new BatchSpanProcessor(exporter)] : [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors,
  });
  return {
    enabled: env.OTEL_SDK_DISABLED !== 'true',
    tracer: provider.getTracer('@tessera/service-kit'),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

function otlpFromEnv(env: NodeJS.ProcessEnv): SpanExporter | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
  if (!url) return undefined;
  // Headers and timeout come from the standard OTEL_EXPORTER_OTLP_* variables, as the exporter reads them.
  return new OTLPTraceExporter({ url });
}

/**
 * The process's tracing. The first service to start in a process sets it up from the environment
 * (a process runs one service, so its name is the resource's); `useTracing` replaces it (tests).
 */
export function processTracing(serviceName: string): Tracing {
  current ??= createTracing({ serviceName });
  return current;
}

export function useTracing(tracing: Tracing): void {
  current = tracing;
}

export interface StartSpanOptions {
  kind: SpanKind;
  /** A W3C traceparent to continue; without a valid one, the active span's trace, else a new trace. */
  traceparent?: string | undefined;
  attributes?: Attributes;
}

export function startSpan(tracing: Tracing, name: string, options: StartSpanOptions): Span {
  const parent = contextOf(options.traceparent);
  return tracing.tracer.startSpan(
    name,
    { kind: options.kind, ...(options.attributes ? { attributes: options.attributes } : {}) },
    parent,
  );
}

function contextOf(traceparent: string | undefined) {
  if (traceparent) {
    const extracted = propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
    if (trace.getSpanContext(extracted)) return extracted;
  }
  const span = active.getStore();
  return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}

/** Runs `fn` with `span` active: log lines and events written inside carry its trace. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return active.run(span, fn);
}

/** Runs `fn` in a new span that ends when it settles, with the error recorded if it throws. */
export async function inSpan<T>(
  tracing: Tracing,
  name: string,
  options: StartSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = startSpan(tracing, name, options);
  try {
    return await withSpan(span, () => fn(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
}

export function activeSpan(): Span | undefined {
  return active.getStore();
}

/** The W3C traceparent of a span (or of the active one), to hand to the next hop. */
export function traceparentOf(span: Span | undefined = active.getStore()): string | undefined {
  const context = span?.spanContext();
  if (!context || !isSpanContextValid(context)) return undefined;
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** `trace_id` and `span_id` of the active span, for every log line written while it is active. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const context = active.getStore()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/** The trace id in a traceparent (the second field), or undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent?.split('-')[1];
}

/**
 * The traceparent an event written now should carry: the active span's, so that the consumer's
 * span is a child of the span that wrote the event. An event that carries a traceparent of another
 * trace (written on behalf of an older cause) keeps its own.
 */
export function traceparentForEvent(carried: string | undefined): string | undefined {
  const now = traceparentOf();
  if (!now) return carried;
  if (carried && traceIdOf(carried) !== traceIdOf(now)) return carried;
  return now;
}
