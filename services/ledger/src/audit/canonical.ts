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

/** The canonical JSON text of `value`. */
export function canonicalize(value: unknown): string {
  return serialize(value, '$');
}

/** The canonical UTF-8 bytes of `value`. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
