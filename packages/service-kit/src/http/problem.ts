/**
 * RFC 9457 problem details with a stable machine-readable `code`. A 4xx says
 * what to fix; a 5xx never leaks internals.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: Array<{ path: string; message: string }>;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(code: string): string {
  return `urn:tessera:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function titleFor(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** Throw from a route or domain adapter to answer with a problem. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  toProblem(instance?: string, requestId?: string): ProblemDetails {
    return {
      type: problemType(this.code),
      title: titleFor(this.status),
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(requestId ? { request_id: requestId } : {}),
      ...this.extensions,
    };
  }
}

export const problems = {
  badRequest: (code: string, detail: string, ext?: Record<string, unknown>) =>
    new HttpProblem(400, code, detail, ext),
  unauthorized: (code: string, detail: string) => new HttpProblem(401, code, detail),
  forbidden: (detail = 'You may not do this.', code = 'FORBIDDEN') => new HttpProblem(403, code, detail),
  notFound: (detail = 'No such resource.', code = 'NOT_FOUND') => new HttpProblem(404, code, detail),
  conflict: (code: string, detail: string, ext?: Record<string, unknown>) =>
    new HttpProblem(409, code, detail, ext),
  unprocessable: (code: string, detail: string) => new HttpProblem(422, code, detail),
};
