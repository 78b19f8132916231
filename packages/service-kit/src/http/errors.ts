import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable, isTransientConflict } from '../db/pg-errors.ts';
import { Refusal, type RefusalKind } from '../refusal.ts';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, problemType, titleFor } from './problem.ts';

/** The one place a domain refusal becomes an HTTP status. */
export const statusOfRefusal: Record<RefusalKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  unsupported_media: 415,
  range_not_satisfiable: 416,
  rate_limited: 429,
  unavailable: 503,
};

/** A refusal as a problem document. */
export function refusalProblem(refused: Refusal, instance?: string, requestId?: string): ProblemDetails {
  return problem(statusOfRefusal[refused.kind], refused.code, refused.message, {
    ...(instance ? { instance } : {}),
    ...(requestId ? { request_id: requestId } : {}),
    ...refused.extensions,
  });
}

function problem(
  status: number,
  code: string,
  detail: string,
  extra: Partial<ProblemDetails> = {},
): ProblemDetails {
  // Extensions come first: a refusal's extra members (a `status` of the thing refused, say) never
  // replace the problem's own type, title, status, code or detail.
  return { ...extra, type: problemType(code), title: titleFor(status), status, code, detail };
}

/** Fastify's own 4xx errors, by their error code, mapped to our stable codes. */
const FASTIFY_CODES: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    detail: 'The request body is too large.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'Send the body as application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'MALFORMED_JSON',
    detail: 'The body is empty but the content type says JSON.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'MALFORMED_JSON',
    detail: 'The body is not valid JSON.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'BAD_REQUEST',
    detail: 'The Content-Length does not match the body.',
  },
};

/** Turns anything thrown while handling a request into a problem document. */
export function toProblem(error: FastifyError | Error, request: FastifyRequest): ProblemDetails {
  const context = { instance: request.url, request_id: request.id };
  if (error instanceof Refusal) return refusalProblem(error, request.url, request.id);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((issue) => ({
      path: `${error.validationContext ?? 'body'}${issue.instancePath.replace(/\//g, '.')}`,
      message: issue.message ?? 'is invalid',
    }));
    const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    return problem(400, 'VALIDATION_FAILED', detail, { ...context, errors });
  }
  const fastifyError = error as FastifyError;
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return problem(known.status, known.code, known.detail, context);
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return problem(400, 'MALFORMED_JSON', 'The body is not valid JSON.', context);
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 429) {
    return problem(429, 'RATE_LIMITED', 'Too many requests; retry after the time in Retry-After.', context);
  }
  if (status >= 400 && status < 500 && !isResponseSerializationError(error)) {
    return problem(status, 'BAD_REQUEST', error.message, context);
  }
  if (isDatabaseUnavailable(error)) {
    return problem(
      503,
      'SERVICE_UNAVAILABLE',
      'A store this service needs cannot be reached; try again shortly.',
      context,
    );
  }
  if (isTransientConflict(error)) {
    return problem(
      503,
      'TRY_AGAIN',
      'This request collided with a concurrent one and nothing of it was kept; send it again.',
      context,
    );
  }
  return problem(500, 'INTERNAL_ERROR', 'Something went wrong on our side; it has been logged.', context);
}

export function sendProblem(reply: FastifyReply, body: ProblemDetails): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}
