import type { z } from 'zod';
import {
  isStoredEventType,
  type StoredEvent,
  type StoredEventType,
  storedEventSchemas,
} from '../domain/events.ts';

/**
 * The stored events' schemas (`src/domain/events.ts`, zod, the source of truth) checked by hand on
 * the audit's hot path: zod builds a stripped copy of every payload, which costs more than the rest
 * of the check. `checkStored` accepts exactly what zod accepts (a fast-check property test holds
 * the two together), and returns the payload itself rather than a copy: the audit only reads the
 * members the schema names. Whatever the hand-written check refuses is handed to zod, for zod's
 * verdict and its message, so a refusal here can never be wrong, only slower.
 */

type Shape<T extends StoredEventType> = (typeof storedEventSchemas)[T]['shape'];

// The formats and enums come from the schemas themselves, so they cannot drift apart.
function patternOf(schema: z.ZodType): RegExp {
  const pattern = (schema as unknown as { def: { pattern?: RegExp } }).def.pattern;
  if (!pattern) throw new TypeError('schema has no pattern');
  return pattern;
}
const entry: Shape<'account-entry'> = storedEventSchemas['account-entry'].shape;
const created: Shape<'transfer-created'> = storedEventSchemas['transfer-created'].shape;
const opened: Shape<'account-opened'> = storedEventSchemas['account-opened'].shape;
const UUID = patternOf(entry.transfer_id);
const ISO_TIME = patternOf(entry.at);
const CAUSES: ReadonlySet<unknown> = new Set(entry.cause.options);
const CODES: ReadonlySet<unknown> = new Set(created.code.options);
const KINDS: ReadonlySet<unknown> = new Set(opened.kind.options);

type Data = Record<string, unknown>;

/** zod's object test: anything of type object but null and arrays (members are then read as `data[key]`). */
function isObject(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isUuid = (value: unknown) => typeof value === 'string' && UUID.test(value);
const isTime = (value: unknown) => typeof value === 'string' && ISO_TIME.test(value);
/** `z.number().int().nonnegative().max(MAX_SAFE_INTEGER)`. */
const isAmount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
/** `z.number().int().min(-MAX_SAFE_INTEGER).max(MAX_SAFE_INTEGER)`: exactly the safe integers. */
const isDelta = (value: unknown) => Number.isSafeInteger(value);

/**
 * `z.record(z.string(), z.string())` for a JSON-like object: own enumerable string keys (zod skips
 * `__proto__`, which is refused here so that zod decides), every value a string. Anything zod would
 * have to look at more closely (another prototype, symbol keys) is refused here, and so goes to zod.
 */
function isStringRecord(value: unknown): boolean {
  if (!isObject(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  if (Object.hasOwn(value, 'constructor') || Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    if (key === '__proto__' || typeof value[key] !== 'string') return false;
  }
  return true;
}

function isUuidArray(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i += 1) if (!isUuid(value[i])) return false;
  return true;
}

const checks: { [T in StoredEventType]: (data: Data) => boolean } = {
  'account-opened': (d) =>
    isString(d.account_id) &&
    isString(d.currency) &&
    KINDS.has(d.kind) &&
    (d.owner === null || isString(d.owner)) &&
    isObject(d.flags) &&
    typeof d.flags.debits_must_not_exceed_credits === 'boolean' &&
    typeof d.flags.credits_must_not_exceed_debits === 'boolean' &&
    isTime(d.at),
  'account-entry': (d) =>
    isString(d.account_id) &&
    isString(d.currency) &&
    isUuid(d.transfer_id) &&
    CAUSES.has(d.cause) &&
    isDelta(d.debits_posted) &&
    isDelta(d.credits_posted) &&
    isDelta(d.debits_pending) &&
    isDelta(d.credits_pending) &&
    isTime(d.at),
  'transfer-created': (d) =>
    isUuid(d.id) &&
    isString(d.debit_account) &&
    isString(d.credit_account) &&
    isAmount(d.amount) &&
    isAmount(d.requested_amount) &&
    isString(d.currency) &&
    CODES.has(d.code) &&
    isStringRecord(d.metadata) &&
    typeof d.pending === 'boolean' &&
    (d.expires_at === null || isTime(d.expires_at)) &&
    typeof d.balancing_debit === 'boolean' &&
    isUuidArray(d.linked_ids) &&
    isString(d.request_hash) &&
    isTime(d.at),
  'pending-posted': (d) => isUuid(d.transfer_id) && isAmount(d.amount) && isTime(d.at),
  'pending-voided': (d) => isUuid(d.transfer_id) && isAmount(d.amount) && isTime(d.at),
  'pending-expired': (d) => isUuid(d.transfer_id) && isAmount(d.amount) && isTime(d.at),
};

/** Whether the hand-written check accepts `data` as a `type` event (exported for its property test). */
export function fastAccepts(type: StoredEventType, data: unknown): boolean {
  return isObject(data) && checks[type](data);
}

/**
 * A stored event's payload checked against its schema: the event (its payload as given, not a
 * copy: read only the members the schema names), or why it is malformed, in zod's words.
 */
export function checkStored(type: string, data: unknown): StoredEvent | string {
  if (!isStoredEventType(type)) return `unknown event type "${type}"`;
  if (fastAccepts(type, data)) return { type, data } as StoredEvent;
  const result = storedEventSchemas[type].safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    return `${type} is malformed: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`;
  }
  return { type, data: result.data } as StoredEvent;
}
