import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';

/** What a stand-in upstream saw of a proxied request. */
export interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeUpstream {
  readonly name: string;
  readonly url: string;
  readonly app: FastifyInstance;
  /** Requests received, most recent last (health and docs probes excluded). */
  readonly seen: Seen[];
  close(): Promise<void>;
}

/**
 * A throwaway HTTP service standing in for a Tessera service behind the gateway: it echoes what
 * it receives under `prefix`, and serves `/healthz` and an OpenAPI document at `/docs/json`
 * (`:name` segments of the prefix written `{name}`, as @fastify/swagger does). Like a service, it
 * refuses JSON bodies over fastify's default 1 MiB itself. Besides the echo routes:
 * - `POST <prefix>/upload` streams an `application/octet-stream` body of any size and answers its
 *   length and SHA-256;
 * - `POST <prefix>/early` answers 401 without reading the body;
 * - `<prefix>/crash` destroys the connection without an answer;
 * - `GET <prefix>/events` is a Server-Sent Events stream that never ends by itself.
 */
export async function startFakeUpstream(name: string, prefix: string): Promise<FakeUpstream> {
  const app = Fastify({ logger: false });
  const seen: Seen[] = [];
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // Uploads are streamed to the handler, never buffered, and have no size limit here.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  const echo = (request: { method: string; url: string; headers: Seen['headers']; body: unknown }) => {
    const entry = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: request.body ?? null,
    };
    seen.push(entry);
    return { service: name, ...entry };
  };

  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: prefix, handler: (req) => echo(req) });
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: `${prefix}/echo`,
    handler: (req) => echo(req),
  });
  app.get(`${prefix}/items/:id`, (req) => echo(req));
  app.post(`${prefix}/conflict`, (req, reply) => {
    echo(req);
    return reply
      .code(409)
      .type('application/problem+json')
      .send({
        type: 'about:blank',
        title: 'Conflict',
        status: 409,
        code: 'ALREADY_EXISTS',
        detail: `${name} says no`,
      });
  });
  app.get(`${prefix}/unavailable`, (req, reply) => {
    echo(req);
    return reply.code(503).send({ status: 'busy' });
  });
  app.get(`${prefix}/slow`, async (req) => {
    echo(req);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return { late: true };
  });
  app.post(`${prefix}/upload`, async (req) => {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of req.body as Readable) {
      bytes += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    seen.push({ method: req.method, url: req.url, headers: req.headers, body: { bytes } });
    return { service: name, bytes, sha256: hash.digest('hex') };
  });
  app.post(`${prefix}/early`, {
    onRequest: async (req, reply) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: null });
      return reply.code(401).send({ code: 'UNAUTHENTICATED', service: name });
    },
    handler: () => ({ unreachable: true }),
  });
  app.all(`${prefix}/crash`, (req) => {
    echo(req);
    req.raw.socket.destroy();
  });
  app.get(`${prefix}/events`, (req, reply) => {
    echo(req);
    void reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('id: 1\nevent: hello\ndata: {}\n\n');
    const ping = setInterval(() => res.write(': ping\n\n'), 100);
    req.raw.once('close', () => {
      clearInterval(ping);
      res.end();
    });
  });
  app.get('/healthz', () => ({ status: 'ok' }));
  const docPrefix = prefix.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  app.get('/docs/json', () => ({
    openapi: '3.1.0',
    info: { title: `${name} service`, version: '1.0.0' },
    paths: {
      [`${docPrefix}/echo`]: {
        post: {
          operationId: 'echo',
          requestBody: {
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Payload' } } },
          },
          responses: { '200': { description: 'echo' } },
        },
      },
      [`${docPrefix}/items/{id}`]: {
        get: {
          tags: ['items'],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
          },
        },
      },
      '/healthz': { get: { responses: { '200': { description: 'ok' } } } },
    },
    components: {
      schemas: {
        Payload: { type: 'object', additionalProperties: true },
        Item: { type: 'object', properties: { id: { type: 'string' }, owner: { const: name } } },
      },
    },
  }));

  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { name, url: `http://127.0.0.1:${port}`, app, seen, close: () => app.close() };
}

/** An origin on which nothing listens (a port that was just released). */
export async function deadOrigin(): Promise<string> {
  const app = Fastify({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  await app.close();
  return `http://127.0.0.1:${port}`;
}
