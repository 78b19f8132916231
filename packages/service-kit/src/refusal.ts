/**
 * Why a command was refused, in the domain's words: a stable `code` clients program against, a
 * `detail` that says what to fix, and a `kind` that says what sort of refusal it is. Domain code
 * (decide functions, use cases, consumers) returns or throws these and never names an HTTP
 * status; the kit maps a kind to a status in one place (`http/errors.ts`).
 */
export const REFUSAL_KINDS = [
  /** The input is malformed or out of range. */
  'invalid',
  /** Who is calling is not known (no or bad credentials). */
  'unauthenticated',
  /** The caller is known and may see the thing, but may not do this to it. */
  'forbidden',
  /** No such thing, or the caller may not know it exists. */
  'not_found',
  /** The thing's current state does not allow this now (a retry after a change may succeed). */
  'conflict',
  /** Well-formed, but it can never be met as asked (a rule of the domain says no). */
  'unprocessable',
  'too_large',
  /** The content is of a type this endpoint does not take. */
  'unsupported_media',
  /** The byte range asked for lies outside the content. */
  'range_not_satisfiable',
  'rate_limited',
  /** Something this depends on is not there right now. */
  'unavailable',
] as const;

export type RefusalKind = (typeof REFUSAL_KINDS)[number];

export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly kind: RefusalKind,
    readonly code: string,
    detail: string,
    /** Extra members of the problem document (`errors`, `retry_after_s`, ...). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  get detail(): string {
    return this.message;
  }
}

export function refusal(
  kind: RefusalKind,
  code: string,
  detail: string,
  extensions?: Record<string, unknown>,
): Refusal {
  return new Refusal(kind, code, detail, extensions);
}

/** Shorthands for the common kinds; throw them, or return them inside a `Decision`. */
export const refuse = {
  invalid: (code: string, detail: string, ext?: Record<string, unknown>) =>
    refusal('invalid', code, detail, ext),
  unauthenticated: (code: string, detail: string) => refusal('unauthenticated', code, detail),
  forbidden: (detail = 'You may not do this.', code = 'FORBIDDEN') => refusal('forbidden', code, detail),
  notFound: (detail = 'No such resource.', code = 'NOT_FOUND') => refusal('not_found', code, detail),
  conflict: (code: string, detail: string, ext?: Record<string, unknown>) =>
    refusal('conflict', code, detail, ext),
  unprocessable: (code: string, detail: string, ext?: Record<string, unknown>) =>
    refusal('unprocessable', code, detail, ext),
  unavailable: (code: string, detail: string) => refusal('unavailable', code, detail),
};

/** What a pure decide function answers: a value, or the refusal that explains why not. */
export type Decision<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const accept = <T>(value: T): Decision<T> => ({ ok: true, value });
export const reject = (refused: Refusal): { ok: false; refusal: Refusal } => ({
  ok: false,
  refusal: refused,
});

/** The value of a decision, or its refusal thrown (for a use case that stops at the first no). */
export function orRefuse<T>(decision: Decision<T>): T {
  if (decision.ok) return decision.value;
  throw decision.refusal;
}
