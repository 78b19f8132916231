import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  Server,
  ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { type Dispatcher, Pool } from 'undici';
import { TRACE_RESPONSE_HEADER, traceparentOf } from '@tessera/service-kit';
import type { GatewayConfig } from './config.ts';
import { bestPrefix, samePattern, toRouterPattern } from './paths.ts';
import { GatewayError, problem, PROBLEM_CONTENT_TYPE } from './problem.ts';

/**
 * The reverse proxy: one fastify route pair (`<pattern>` and `<pattern>/*`) per mount, forwarding
 * to the upstream over a keep-alive undici pool. Written for the edge cases a generic proxy plugin
 * got wrong:
 *
 * - Bodies are streamed, never buffered, and counted: a declared `Content-Length` over the mount's
 *   limit is answered 413 before anything is read (before `100 Continue`, too); a chunked body that
 *   crosses it while streaming is cut off and answered 413.
 * - The request body handed to undici is a stream of our own, never the client's request: undici
 *   destroys the stream it is given when the upstream answers early or fails, and destroying the
 *   client's request stalled its keep-alive connection.
 * - Whatever the upstream answers is passed through as soon as its headers arrive, even before the
 *   body has been sent (an early 401 or 413); only a failure without any answer becomes 502/504.
 * - Every exit leaves the client's connection usable or closes it: a request body that was not
 *   read is drained when what is left is small, else the answer says `connection: close` and the
 *   socket is closed after a lingering read (so that the client reads the answer, not a reset).
 */

export const PROXY_METHODS: HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

/** A request body left unread beyond this is not drained: the connection is closed instead. */
export const DRAIN_LIMIT_BYTES = 1_048_576;
/** How long a closing connection keeps reading (and discarding) what the client still sends. */
export const LINGER_MS = 5_000;

export interface ProxyMount {
  readonly service: string;
  /** Route prefix or upload pattern, in config syntax (`:name` or `*` parameter segments). */
  readonly pattern: string;
  readonly upstream: string;
  readonly bodyLimit: number;
  readonly upload: boolean;
}

/**
 * The routes the gateway registers: every route prefix with the general body limit, and every
 * upload pattern with the upload limit, forwarded to the service whose prefix the router would
 * choose for it. An upload pattern that no prefix covers forwards nowhere and is left out.
 */
export function proxyMounts(config: Pick<GatewayConfig, 'routes' | 'bodyLimit' | 'uploads'>): ProxyMount[] {
  const mounts: ProxyMount[] = config.routes.map((r) => ({
    service: r.service,
    pattern: r.prefix,
    upstream: r.upstream,
    bodyLimit: config.bodyLimit,
    upload: false,
  }));
  for (const pattern of config.uploads.paths) {
    const same = mounts.findIndex((m) => samePattern(m.pattern, pattern));
    if (same >= 0) {
      mounts[same] = { ...mounts[same]!, bodyLimit: config.uploads.bodyLimit, upload: true };
      continue;
    }
    const owner = bestPrefix(pattern, config.routes);
    if (!owner) continue;
    mounts.push({
      service: owner.service,
      pattern,
      upstream: owner.upstream,
      bodyLimit: config.uploads.bodyLimit,
      upload: true,
    });
  }
  return mounts;
}

const REQUEST_ID_HEADER = 'x-request-id';

/** Hop-by-hop headers (RFC 9110 7.6.1) and those the gateway sets itself, never copied upstream. */
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
  // The gateway answers `Expect: 100-continue` itself; undici refuses to send it.
  'expect',
  'host',
  REQUEST_ID_HEADER,
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  // Other spellings of the client's address: a client may not choose them either.
  'forwarded',
  'x-real-ip',
  // Replaced by the gateway's own span, which continues it (src/app.ts: registerTracing).
  'traceparent',
]);

const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
  REQUEST_ID_HEADER,
  // The client is answered with the gateway's span, the root of what the request caused.
  TRACE_RESPONSE_HEADER,
]);

/** Header names listed in a `Connection` header, which are hop-by-hop too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const tokens = (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0 && t !== 'close' && t !== 'keep-alive');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/** `..` or `.` segments (also percent-encoded) could escape a prefix at an upstream that resolves them. */
function hasDotSegment(url: string): boolean {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (!path.includes('.') && !path.includes('%')) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return decoded.split('/').some((s) => s === '.' || s === '..');
}

class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}

class UpstreamTimeoutError extends Error {
  override readonly name = 'UpstreamTimeoutError';
}

/**
 * The request body as undici reads it: a stream of our own fed from the client's request, counted
 * against the limit. Destroying it (undici does when the upstream answers early or fails) detaches
 * it and lets the client's request flow on, discarded, so its connection is never left stalled.
 */
class RequestBody extends Readable {
  received = 0;
  tooLarge = false;
  /** Called whenever a chunk is handed on. */
  onProgress: (() => void) | undefined;
  #attached = false;
  #sourceEnded = false;
  /** Chunks read from the client and not yet handed on (one at a time: the source is paused). */
  readonly #queue: Buffer[] = [];

  constructor(
    private readonly source: IncomingMessage,
    readonly limit: number,
  ) {
    super();
  }

  override _read(): void {
    if (!this.#attached) {
      // Attached only when undici starts sending, so that `100 Continue` goes out only then.
      this.#attached = true;
      this.source.on('data', this.#onData);
      this.source.on('end', this.#onEnd);
      this.source.on('error', this.#onError);
      this.source.on('aborted', this.#onAborted);
    } else if (this.#queue.length === 0 && !this.#sourceEnded) {
      this.source.resume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#detach();
    callback(error);
  }

  #onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > this.limit) {
      this.tooLarge = true;
      this.destroy(new PayloadTooLargeError(`request body over ${this.limit} bytes`));
      return;
    }
    // Each chunk goes upstream on the next turn of the event loop, after its I/O poll, so that an
    // answer the upstream already sent (an early 413, then a reset) is read before the next write
    // would fail with EPIPE and lose it.
    this.source.pause();
    this.#queue.push(chunk);
    setImmediate(this.#forward);
  };

  #forward = (): void => {
    const chunk = this.#queue.shift();
    if (chunk === undefined || this.destroyed) return;
    const more = this.push(chunk);
    this.onProgress?.();
    if (this.#queue.length > 0) return;
    if (this.#sourceEnded) this.push(null);
    else if (more) this.source.resume();
  };

  #onEnd = (): void => {
    this.#sourceEnded = true;
    if (this.#queue.length === 0) this.push(null);
  };

  #onError = (error: Error): void => {
    this.destroy(error);
  };

  #onAborted = (): void => {
    this.destroy(new ClientGoneError('the client aborted the request'));
  };

  #detach(): void {
    this.#queue.length = 0;
    if (!this.#attached) return;
    this.source.off('data', this.#onData);
    this.source.off('end', this.#onEnd);
    this.source.off('error', this.#onError);
    this.source.off('aborted', this.#onAborted);
    // Whatever is left is read and thrown away; the answer decides whether the connection stays.
    if (!this.source.destroyed) this.source.resume();
  }
}

const lingering = new WeakSet<Socket>();

/**
 * Makes the server close `socket` after the current response gently: send the response and FIN,
 * then keep reading (and discarding) what the client still sends until it closes its side or
 * {@link LINGER_MS} pass. Closing a socket with unread data sends a TCP reset, and a reset can
 * destroy the response in the client's buffers before the client reads it.
 */
function lingerOnClose(s: Socket | null): void {
  if (!s || lingering.has(s)) return;
  lingering.add(s);
  // node:http's server calls destroySoon() once a `connection: close` response has been written.
  s.destroySoon = () => {
    if (s.destroyed) return;
    s.end();
    const timer = setTimeout(() => s.destroy(), LINGER_MS);
    timer.unref();
    s.once('end', () => s.destroy());
    s.once('close', () => clearTimeout(timer));
    s.resume();
  };
}

/**
 * Decides the fate of the connection when the gateway answers before having read the whole request
 * body: a small rest is drained (node's server reads and discards an unread body once the response
 * is sent; a detached {@link RequestBody} resumes its source) and the connection kept; a large or
 * unknown rest means `connection: close` and a lingering close. Call before the headers go out.
 */
function settleUnreadBody(req: IncomingMessage, res: ServerResponse, received: number): void {
  if (req.complete) return;
  if (awaitingContinue(req)) {
    // The client waits for `100 Continue` before sending: no body will come, close after answering.
    res.shouldKeepAlive = false;
    lingerOnClose(req.socket);
    return;
  }
  const declared = contentLength(req);
  const rest = declared === undefined ? Infinity : declared - received;
  if (rest > DRAIN_LIMIT_BYTES) {
    res.setHeader('connection', 'close');
    lingerOnClose(req.socket);
  }
}

function contentLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

// ---- Expect: 100-continue --------------------------------------------------------------------

const kContinue = Symbol('gateway.expectContinue');
type Expecting = IncomingMessage & {
  [kContinue]?: { sent: boolean };
  _read(size: number): void;
};

function awaitingContinue(req: IncomingMessage): boolean {
  const state = (req as Expecting)[kContinue];
  return state !== undefined && !state.sent;
}

/**
 * Answers `Expect: 100-continue` the way a proxy should: `100 Continue` goes out only when
 * something starts reading the body (the proxy, once the upstream is connected and the request
 * passed the rate limit and the size limit; or fastify's own body parser), so a request refused
 * before that gets its final status instead, and that answer closes the connection (the client
 * never sent the body the request announced). Without this listener node answers `100 Continue`
 * to every such request at once.
 */
export function handleExpectContinue(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const state = { sent: false };
    const r = req as Expecting;
    r[kContinue] = state;
    const read = r._read.bind(r);
    r._read = (size: number) => {
      if (!state.sent && !res.headersSent) {
        state.sent = true;
        res.writeContinue();
      }
      read(size);
    };
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((...args: Parameters<ServerResponse['writeHead']>) => {
      if (!state.sent) {
        res.shouldKeepAlive = false;
        lingerOnClose(req.socket);
      }
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    server.emit('request', req, res);
  });
}

// ---- the exchange ----------------------------------------------------------------------------

/** One proxied request: undici's handler for the upstream side, writing the client's response. */
class Exchange implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  /** Why the exchange was ended before undici got to it (aborted as soon as it does). */
  #abortReason: Error | undefined;
  #started = false;
  /** An error answer went out (or the client left): later callbacks have nothing to do. */
  #settled = false;
  #clientGone = false;
  /**
   * The response headers timeout, a plain timer: undici's own has a resolution of a second. It
   * runs from the dispatch and from each request body chunk handed on, so a long upload is fine.
   */
  #timer: NodeJS.Timeout | undefined;
  readonly #res: ServerResponse;

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly body: RequestBody | undefined,
    private readonly service: string,
    timeoutMs: number,
    private readonly streams: Set<() => void>,
  ) {
    this.#res = reply.raw;
    this.#res.once('close', this.#onClientClose);
    this.#timer = setTimeout(this.#onTimeout, timeoutMs);
    if (body) body.onProgress = this.#touch;
  }

  #touch = (): void => {
    this.#timer?.refresh();
  };

  #abort(reason: Error): void {
    if (this.#controller) this.#controller.abort(reason);
    else {
      this.#abortReason = reason;
      // Still queued for a connection: answer now, abort when undici starts it.
      this.onResponseError(undefined, reason);
    }
  }

  #onTimeout = (): void => {
    this.#timer = undefined;
    this.#abort(new UpstreamTimeoutError('no response headers in time'));
  };

  #onClientClose = (): void => {
    if (this.#res.writableFinished) return;
    this.#clientGone = true;
    this.#abort(new ClientGoneError('the client closed the connection'));
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    upstreamHeaders: IncomingHttpHeaders,
  ): void {
    const res = this.#res;
    clearTimeout(this.#timer);
    if (this.#settled || this.#clientGone || res.destroyed) {
      controller.abort(new ClientGoneError('the client closed the connection'));
      return;
    }
    // Headers the gateway set (request id, CORS, rate limit), then the upstream's, which win
    // except for the request id.
    const headers = this.reply.getHeaders() as OutgoingHttpHeaders;
    const listed = connectionTokens(upstreamHeaders.connection);
    for (const name in upstreamHeaders) {
      if (DROPPED_RESPONSE_HEADERS.has(name) || listed?.has(name)) continue;
      headers[name] = upstreamHeaders[name];
    }
    headers[REQUEST_ID_HEADER] = this.request.id;
    if (isEventStream(upstreamHeaders['content-type'])) this.#trackStream(controller);
    const req = this.request.raw;
    this.#started = true;
    void this.reply.hijack();
    try {
      // An answer before the whole request body was read (an early 401 or 413).
      if (!req.complete) settleUnreadBody(req, res, this.body?.received ?? 0);
      res.writeHead(statusCode, headers);
      // Headers, body and end of a small response leave in one write; a long one is uncorked
      // after each turn (see onResponseData).
      res.cork();
      process.nextTick(uncork, res);
    } catch (err) {
      // An upstream status or header node cannot send.
      this.request.log.warn({ err, service: this.service }, 'unusable upstream response');
      controller.abort(err as Error);
      if (!res.headersSent) {
        writeRawProblem(this.request, this.reply, 502, 'UPSTREAM_UNAVAILABLE', this.#unavailable());
      } else res.destroy();
    }
  }

  /**
   * A Server-Sent Events stream never ends by itself: on shutdown the gateway ends it (a clean end
   * the client's EventSource reconnects after, with Last-Event-ID) instead of waiting for it.
   */
  #trackStream(controller: Dispatcher.DispatchController): void {
    const end = () => {
      // Settled first: the abort's error callback must not destroy the response we end cleanly.
      this.#settled = true;
      if (!this.#res.writableEnded) this.#res.end();
      controller.abort(new ClientGoneError('the gateway is shutting down'));
    };
    this.streams.add(end);
    this.#res.once('close', () => this.streams.delete(end));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.#res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    const { request, reply } = this;
    clearTimeout(this.#timer);
    if (this.#settled) return;
    this.#settled = true;
    if (this.#clientGone || error instanceof ClientGoneError) {
      if (!this.#res.destroyed) this.#res.destroy();
      return;
    }
    if (this.#started) {
      // Headers are out: all that can be done is to cut the response short, which the client sees.
      request.log.warn({ err: error, service: this.service }, 'upstream response failed');
      this.#res.destroy();
      return;
    }
    const req = request.raw;
    // Stop feeding the (failed) upstream request; what the client still sends is discarded.
    this.body?.destroy();
    settleUnreadBody(req, this.#res, this.body?.received ?? 0);
    if (this.body?.tooLarge) {
      request.log.info({ service: this.service }, 'request body too large');
      void reply.send(tooLarge(this.body.limit));
      return;
    }
    const code = (error as { code?: unknown }).code;
    request.log.warn({ err: error, service: this.service }, 'upstream request failed');
    if (error instanceof UpstreamTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
      void reply.send(
        new GatewayError(504, 'UPSTREAM_TIMEOUT', `The ${this.service} service did not answer in time.`),
      );
    } else {
      void reply.send(new GatewayError(502, 'UPSTREAM_UNAVAILABLE', this.#unavailable()));
    }
  }

  #unavailable(): string {
    return `The ${this.service} service is unavailable; try again later.`;
  }
}

function uncork(res: ServerResponse): void {
  res.uncork();
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
}

/** A problem answer written on the raw response, for when fastify's reply was already hijacked. */
function writeRawProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
): void {
  const body = JSON.stringify(problem(status, code, detail, request.id));
  reply.raw.writeHead(status, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    [REQUEST_ID_HEADER]: request.id,
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
  });
  reply.raw.end(body);
}

// ---- registration ----------------------------------------------------------------------------

export interface ProxyOptions {
  readonly upstreamTimeoutMs: number;
  /** Connections per upstream. */
  readonly connections?: number;
}

/**
 * Registers every mount as routes on `app` (in an encapsulated context whose content-type parser
 * leaves bodies unread) and closes the upstream pools with the app.
 */
export async function registerProxy(
  app: FastifyInstance,
  mounts: readonly ProxyMount[],
  options: ProxyOptions,
): Promise<void> {
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: options.connections ?? 128,
        pipelining: 1,
        connect: { timeout: 5_000 },
        // The exchange times the response headers itself (undici's timers tick once a second).
        headersTimeout: 0,
        bodyTimeout: options.upstreamTimeoutMs,
      });
      pools.set(origin, pool);
    }
    return pool;
  };
  const streams = new Set<() => void>();
  app.addHook('preClose', () => {
    for (const end of [...streams]) end();
  });
  app.addHook('onClose', async () => {
    await Promise.all([...pools.values()].map((p) => p.close()));
  });

  await app.register(async (scope) => {
    // Bodies are the proxy's to stream: no parsing, no buffering, for any content type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    for (const mount of mounts) {
      const handler = proxyHandler(mount, poolFor(mount.upstream), options.upstreamTimeoutMs, streams);
      const base = toRouterPattern(mount.pattern);
      for (const url of [base, `${base}/*`]) {
        scope.route({ method: PROXY_METHODS, url, handler });
      }
    }
  });
}

function proxyHandler(mount: ProxyMount, pool: Pool, timeoutMs: number, streams: Set<() => void>) {
  return function proxy(request: FastifyRequest, reply: FastifyReply): void {
    const req = request.raw;
    const url = req.url ?? '/';
    if (hasDotSegment(url)) {
      void reply.send(
        new GatewayError(400, 'BAD_REQUEST', 'The path must not contain "." or ".." segments.'),
      );
      return;
    }
    const declared = contentLength(req);
    if (declared !== undefined && declared > mount.bodyLimit) {
      request.log.info({ service: mount.service, contentLength: declared }, 'request body too large');
      settleUnreadBody(req, reply.raw, 0);
      void reply.send(tooLarge(mount.bodyLimit));
      return;
    }
    const hasBody = declared === undefined ? req.headers['transfer-encoding'] !== undefined : declared > 0;
    const body = hasBody ? new RequestBody(req, mount.bodyLimit) : undefined;
    void pool.dispatch(
      {
        method: req.method as Dispatcher.HttpMethod,
        path: url,
        headers: upstreamHeaders(request),
        body: body ?? null,
      },
      new Exchange(request, reply, body, mount.service, timeoutMs, streams),
    );
  };
}

function isEventStream(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

function upstreamHeaders(request: FastifyRequest): Record<string, string | string[]> {
  const incoming = request.raw.headers;
  const listed = connectionTokens(incoming.connection);
  const headers: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (DROPPED_REQUEST_HEADERS.has(name) || listed?.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) headers[name] = value;
  }
  headers[REQUEST_ID_HEADER] = request.id;
  const traceparent = request.traceSpan ? traceparentOf(request.traceSpan) : incoming.traceparent;
  if (traceparent) headers.traceparent = traceparent;
  // Replaced, never appended to: the services trust this header from the gateway alone, so it
  // carries only what the gateway vouches for. request.ip is its peer, or, with
  // GATEWAY_TRUST_PROXY, the nearest hop its trusted proxies did not add.
  headers['x-forwarded-for'] = request.ip;
  headers['x-forwarded-proto'] = request.protocol;
  headers['x-forwarded-host'] = request.host;
  return headers;
}
