import { createHash } from 'node:crypto';
import type { ValidTransferRequest } from './transfers.ts';

/**
 * JSON with object keys sorted (recursively) and no whitespace, so equal values give equal bytes.
 * Only what JSON can carry exactly: finite numbers, strings, booleans, null, arrays, plain objects.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} has no canonical JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  throw new TypeError(`a ${typeof value} has no canonical JSON form`);
}

/**
 * Every field of a request with its default made explicit, so that leaving out `balancing_debit`
 * and sending `false` (or no metadata and `{}`) are the same request.
 */
export function normalizeRequest(request: ValidTransferRequest) {
  return {
    id: request.id,
    debit_account: request.debit_account,
    credit_account: request.credit_account,
    amount: request.amount,
    currency: request.currency,
    code: request.code,
    metadata: request.metadata,
    pending: request.pending ? { timeout_seconds: request.pending.timeout_seconds } : null,
    balancing_debit: request.balancing_debit ?? false,
  };
}

/** SHA-256 (hex) of the canonical request: tells a retry from a conflicting reuse of the id. */
export function requestHash(request: ValidTransferRequest): string {
  return createHash('sha256')
    .update(canonicalJson(normalizeRequest(request)), 'utf8')
    .digest('hex');
}
