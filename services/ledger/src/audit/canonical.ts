/**
 * JSON canonicalization after RFC 8785 (JCS): the one byte string a JSON value hashes and signs as.
 * Object members are sorted by the UTF-16 code units of their names, with no whitespace; strings
 * and numbers are serialized as ECMAScript's JSON.stringify does (which is what RFC 8785 specifies),
 * and the result is UTF-8. Values JSON cannot carry faithfully are refused rather than coerced:
 * non-finite numbers, lone surrogates, undefined, bigint, and objects that are not plain.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class CanonicalizationError extends TypeError {
  override readonly name = 'CanonicalizationError';
}

function serializeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw new CanonicalizationError(`${path}: string has a lone surrogate`);
  return JSON.stringify(value);
}

function serialize(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalizationError(`${path}: ${value} is not a JSON number`);
      return JSON.stringify(value); // -0 becomes 0, as RFC 8785 requires
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value))
        return `[${value.map((item, i) => serialize(item, `${path}[${i}]`)).join(',')}]`;
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new CanonicalizationError(`${path}: not a plain object`);
      }
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, exactly RFC 8785's member order.
      const members = Object.keys(record)
        .sort()
        .map((key) => `${serializeString(key, path)}:${serialize(record[key], `${path}.${key}`)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalizationError(`${path}: ${typeof value} is not a JSON value`);
  }
}

type MaybeWellFormed = string & { isWellFormed?: () => boolean };

/**
 * The same text as `serialize`, without building a path for every value: the audit canonicalizes
 * millions of events. On a refusal, `canonicalize` runs `serialize` again for the message.
 */
function fast(value: unknown): string {
  switch (typeof value) {
    case 'string':
      // String#isWellFormed (Node 20+) is native; the regex is the reference.
      if (!((value as MaybeWellFormed).isWellFormed?.() ?? !LONE_SURROGATE.test(value))) {
        throw new CanonicalizationError('lone surrogate');
      }
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalizationError('not a JSON number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let text = '[';
        for (let i = 0; i < value.length; i += 1) text += (i === 0 ? '' : ',') + fast(value[i]);
        return `${text}]`;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new CanonicalizationError('not a plain object');
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 0) return '{}';
      const shape = shapeOf(keys);
      const { sorted, prefixes } = shape;
      let text = '{';
      for (let i = 0; i < sorted.length; i += 1) text += prefixes[i]! + fast(record[sorted[i]!]);
      return `${text}}`;
    }
    default:
      throw new CanonicalizationError('not a JSON value');
  }
}

/**
 * The member names of an object in canonical order, each with its serialized prefix (`"name":`,
 * after a comma but for the first). The audit meets the same few shapes millions of times (every
 * payload of one event type has the same names), so shapes are remembered by their names in
 * `Object.keys` order: a hit costs a comparison of names, not a sort and a JSON.stringify per name.
 */
interface Shape {
  keys: readonly string[];
  sorted: readonly string[];
  prefixes: readonly string[];
}

/** Shapes by their first name in `Object.keys` order; bounded, so odd payloads cannot grow it. */
const shapes = new Map<string, Shape[]>();
let shapeCount = 0;
const MAX_SHAPES = 512;
const MAX_SHAPE_KEYS = 64;
const MAX_SHAPES_PER_NAME = 8;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function shapeOf(keys: string[]): Shape {
  const first = keys[0]!;
  const known = shapes.get(first);
  if (known !== undefined) {
    for (let i = 0; i < known.length; i += 1) if (sameKeys(known[i]!.keys, keys)) return known[i]!;
  }
  // Default sort compares UTF-16 code units, exactly RFC 8785's member order. `fast(name)` throws
  // on a lone surrogate before anything is remembered.
  const sorted = [...keys].sort();
  const prefixes = sorted.map((name, i) => `${i === 0 ? '' : ','}${fast(name)}:`);
  const shape: Shape = { keys: [...keys], sorted, prefixes };
  if (keys.length <= MAX_SHAPE_KEYS && shapeCount < MAX_SHAPES) {
    if (known === undefined) shapes.set(first, [shape]);
    else if (known.length < MAX_SHAPES_PER_NAME) known.push(shape);
    else return shape;
    shapeCount += 1;
  }
  return shape;
}

/** The canonical JSON text of `value`. */
export function canonicalize(value: unknown): string {
  try {
    return fast(value);
  } catch (error) {
    if (!(error instanceof CanonicalizationError)) throw error;
    return serialize(value, '$');
  }
}

/** The canonical UTF-8 bytes of `value`. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
