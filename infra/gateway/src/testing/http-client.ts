import { type Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * HTTP clients for tests where fetch hides the behaviour under test: fetch (undici) never sends
 * `Expect: 100-continue`, always frames bodies itself and pools connections out of sight.
 */

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the server answered `100 Continue` before the final status. */
  continued: boolean;
  /** The connection the request went over (to tell reuse from a new connection). */
  socket: Socket;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** Sent with a Content-Length, or in `chunks` with chunked transfer encoding. */
  body?: Buffer;
  /** Send the body as chunked transfer encoding in pieces of this size. */
  chunkSize?: number;
  /** Send `Expect: 100-continue` and the body only once the server answers `100 Continue`. */
  expectContinue?: boolean;
  agent?: Agent | false;
  timeoutMs?: number;
}

/**
 * One request with node:http. Resolves with the final response, read to its end; errors the client
 * meets while still sending after the server has answered (EPIPE, reset) are ignored, as a client
 * that reads the answer would. Rejects when no answer arrives within `timeoutMs` (a hung request).
 */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const target = new URL(url);
  const { body, chunkSize, expectContinue = false, timeoutMs = 10_000 } = options;
  const headers: Record<string, string | number> = { ...options.headers };
  if (body && chunkSize === undefined) headers['content-length'] = body.length;
  if (expectContinue) headers.expect = '100-continue';

  return new Promise((resolve, reject) => {
    let answered = false;
    let continued = false;
    let socket: Socket | undefined;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer to ${options.method ?? 'GET'} ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? (body ? 'POST' : 'GET'),
        headers,
        agent: options.agent ?? false,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        res.on('end', () => {
          clearTimeout(timer);
          // The server answered without reading the body it never asked for: stop offering it.
          if (expectContinue && !continued) req.destroy();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            continued,
            socket: socket!,
          });
        });
      },
    );
    req.on('socket', (s) => (socket = s));
    req.on('error', (err) => {
      if (answered) return;
      clearTimeout(timer);
      reject(err);
    });
    const sendBody = () => {
      if (!body) return req.end();
      if (chunkSize === undefined) return req.end(body);
      for (let offset = 0; offset < body.length; offset += chunkSize) {
        req.write(body.subarray(offset, offset + chunkSize));
      }
      req.end();
    };
    if (expectContinue) {
      req.on('continue', () => {
        continued = true;
        sendBody();
      });
      req.flushHeaders();
    } else {
      sendBody();
    }
  });
}

/**
 * Raw HTTP/1.1 over one TCP connection: write a request verbatim, read one response (framed by
 * Content-Length). For showing that a connection still answers after something went wrong on it.
 */
export class RawConnection {
  #buffer = Buffer.alloc(0);
  #closed = false;
  #waiting: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#waiting?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends `GET path` (or another method) and reads the one response to it. */
  async exchange(
    method: string,
    path: string,
    timeoutMs = 5_000,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    this.socket.write(`${method} ${path} HTTP/1.1\r\nhost: gateway.test\r\n\r\n`);
    return this.#readResponse(timeoutMs);
  }

  async #readResponse(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine, ...lines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        const length = Number(headers['content-length'] ?? 0);
        if (this.#buffer.length >= end + 4 + length) {
          const body = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
          this.#buffer = this.#buffer.subarray(end + 4 + length);
          return { status: Number(statusLine!.split(' ')[1]), headers, body };
        }
      }
      if (this.#closed) throw new Error('the connection was closed without a (complete) response');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms: the connection hangs`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiting = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
