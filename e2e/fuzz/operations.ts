import fc from 'fast-check';
import { badPathParameter, hostileHeaderValue, hostileOf, hostileQueryValue, hugeJson } from './hostile.ts';
import { arbitraryOf, type Schema } from './schema-arbitrary.ts';

// The operations of the merged OpenAPI document, and requests for each: well-formed ones (with
// known or unknown ids) and hostile ones.

export interface Operation {
  method: string;
  /** The templated path, e.g. `/api/v1/tasks/{id}`. */
  path: string;
  parameters: { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }[];
  /** The JSON body's schema, if the operation takes a JSON body. */
  body?: Schema;
  bodyRequired: boolean;
  /** Takes a multipart upload (documented as prose only: no requestBody). */
  multipart: boolean;
  /** Documented as needing a bearer token. */
  secured: boolean;
}

export interface FuzzRequest {
  method: string;
  /** The concrete path and query. */
  url: string;
  /** Header parameters the operation documents (e.g. Idempotency-Key). */
  headers: Record<string, string>;
  /** Raw body text (JSON or not) or bytes, with its content type. */
  body?: { contentType: string; data: string | Uint8Array };
  /** What the request is, for a report: `valid`, `hostile body`, `bad path`, ... */
  kind: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation of an OpenAPI document, in document order. */
export function operationsOf(document: { paths?: Record<string, Record<string, unknown>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, raw] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const op = raw as {
        parameters?: Operation['parameters'];
        requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
        security?: unknown[];
        summary?: string;
        description?: string;
      };
      const json = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters ?? []).filter(
          (p) => p.in === 'path' || p.in === 'query' || p.in === 'header',
        ),
        ...(json ? { body: json } : {}),
        bodyRequired: op.requestBody?.required === true,
        multipart: /multipart/i.test(`${op.summary ?? ''} ${op.description ?? ''}`),
        secured: (op.security ?? []).length > 0,
      });
    }
  }
  return operations;
}

/** Ids the fixture created, by path parameter name, so that well-formed requests reach real objects. */
export type KnownIds = Record<string, readonly string[]>;

function pathValue(name: string, schema: Schema, known: KnownIds): fc.Arbitrary<string> {
  const ids = known[name] ?? known.id ?? [];
  const wellFormed = arbitraryOf(schema).map((v) => encodeURIComponent(String(v)));
  return ids.length > 0 ? fc.oneof(fc.constantFrom(...ids), wellFormed) : wellFormed;
}

function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? 'missing');
}

const queryString = (query: Record<string, unknown>): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) search.append(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** Requests for `op`: about half well-formed, the rest hostile in one way each. */
export function requestsFor(op: Operation, known: KnownIds): fc.Arbitrary<FuzzRequest> {
  return variantsFor(op, known).all;
}

/** Well-formed requests for `op` only. */
export function validRequestsFor(op: Operation, known: KnownIds): fc.Arbitrary<FuzzRequest> {
  return variantsFor(op, known).valid;
}

function variantsFor(op: Operation, known: KnownIds) {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  // A cursor is opaque: only one the API returned is well-formed.
  const queryParams = op.parameters.filter((p) => p.in === 'query' && p.name !== 'cursor');
  const headerParams = op.parameters.filter((p) => p.in === 'header');
  const headers = fc.record(
    Object.fromEntries(
      headerParams.map((p) => [
        p.name,
        /idempotency/i.test(p.name) ? fc.uuid() : arbitraryOf(p.schema).map(String),
      ]),
    ),
    { requiredKeys: headerParams.map((p) => p.name) },
  ) as fc.Arbitrary<Record<string, string>>;

  const goodPath = fc
    .tuple(...pathParams.map((p) => pathValue(p.name, p.schema, known)))
    .map((values) => fill(op.path, Object.fromEntries(pathParams.map((p, i) => [p.name, values[i]!]))));
  const badPath = fc
    .tuple(...pathParams.map(() => badPathParameter))
    .map((values) => fill(op.path, Object.fromEntries(pathParams.map((p, i) => [p.name, values[i]!]))));
  const goodQuery = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, arbitraryOf(p.schema)])), {
    requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name),
  });
  const badQuery = fc.record(
    Object.fromEntries(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, hostileQueryValue])),
    { requiredKeys: [] },
  );

  const json = (value: unknown) => ({
    contentType: 'application/json',
    data: JSON.stringify(value) ?? 'null',
  });
  const goodBody: fc.Arbitrary<FuzzRequest['body']> = op.multipart
    ? fc.uint8Array({ maxLength: 256 }).map((bytes) => multipart(bytes))
    : op.body
      ? arbitraryOf(op.body).map(json)
      : fc.constant(undefined);
  const badBody: fc.Arbitrary<FuzzRequest['body']> = fc.oneof(
    hostileOf(op.body).map(json),
    hugeJson.map((data) => ({ contentType: 'application/json', data })),
    fc.constantFrom('{', '{"a":', '[1,2', 'null', '"', '\u0000', '{"a":1}{"b":2}').map((data) => ({
      contentType: 'application/json',
      data,
    })),
    fc.string({ maxLength: 64 }).map((data) => ({ contentType: 'text/plain', data })),
    fc.uint8Array({ maxLength: 512 }).map((data) => ({ contentType: 'application/octet-stream', data })),
    fc.uint8Array({ maxLength: 512 }).map((bytes) => multipart(bytes, 'not-file')),
  );

  const build = (
    kind: string,
    path: string,
    query: Record<string, unknown>,
    body: FuzzRequest['body'],
    header: Record<string, string>,
  ): FuzzRequest => ({
    method: op.method,
    url: `${path}${queryString(query)}`,
    headers: header,
    ...(body ? { body } : {}),
    kind,
  });
  const variants: fc.Arbitrary<FuzzRequest>[] = [
    fc.tuple(goodPath, goodQuery, goodBody, headers).map(([p, q, b, h]) => build('valid', p, q, b, h)),
  ];
  // A GET carries no body (fetch will not send one, nor do proxies reliably).
  if (op.method !== 'GET') {
    variants.push(
      fc
        .tuple(goodPath, goodQuery, badBody, headers)
        .map(([p, q, b, h]) => build('hostile body', p, q, b, h)),
    );
  }
  if (pathParams.length > 0) {
    variants.push(
      fc.tuple(badPath, goodQuery, goodBody, headers).map(([p, q, b, h]) => build('bad path', p, q, b, h)),
    );
  }
  if (op.parameters.some((p) => p.in === 'query')) {
    variants.push(
      fc
        .tuple(goodPath, badQuery, goodBody, headers)
        .map(([p, q, b, h]) => build('hostile query', p, q, b, h)),
    );
  }
  if (headerParams.length > 0) {
    const badHeaders = fc.record(Object.fromEntries(headerParams.map((p) => [p.name, hostileHeaderValue])), {
      requiredKeys: [],
    }) as fc.Arbitrary<Record<string, string>>;
    variants.push(
      fc
        .tuple(goodPath, goodQuery, goodBody, badHeaders)
        .map(([p, q, b, h]) => build('hostile header', p, q, b, h)),
    );
  }
  return {
    valid: variants[0]!,
    all: fc.oneof(
      { arbitrary: variants[0]!, weight: Math.max(1, variants.length - 1) },
      ...variants.slice(1).map((arbitrary) => ({ arbitrary, weight: 1 })),
    ),
  };
}

const BOUNDARY = 'tessera-fuzz-boundary';

function multipart(bytes: Uint8Array, field = 'file'): { contentType: string; data: Uint8Array } {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="fuzz.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    data: new Uint8Array(Buffer.concat([head, bytes, tail])),
  };
}
