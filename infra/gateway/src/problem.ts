import { STATUS_CODES } from 'node:http';

/**
 * RFC 9457 problem details with a stable machine-readable `code`, in the same shape the services
 * answer with (service-kit's problem.ts): `type` is `urn:tessera:problem:<code>`, and
 * `title` is the HTTP reason phrase; clients branch on `code`, humans read `detail`.
 */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly request_id?: string;
  readonly [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** An error the gateway answers with as problem+json. `detail` must be safe to show to clients. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export function problem(status: number, code: string, detail: string, requestId?: string): Problem {
  return {
    type: `urn:tessera:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    detail,
    ...(requestId === undefined ? {} : { request_id: requestId }),
  };
}

/** Stable codes for 4xx errors raised by fastify or its plugins rather than by the gateway itself. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 408:
      return 'REQUEST_TIMEOUT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 414:
      return 'URI_TOO_LONG';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    case 431:
      return 'HEADERS_TOO_LARGE';
    case 502:
      return 'UPSTREAM_UNAVAILABLE';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    case 504:
      return 'UPSTREAM_TIMEOUT';
    default:
      return status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  }
}
