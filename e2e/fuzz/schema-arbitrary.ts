import fc from 'fast-check';

// Values a JSON Schema (the subset our services' OpenAPI documents use: what zod writes) accepts,
// as fast-check arbitraries. Best effort by design: a schema feature it does not know gives any
// JSON value, so the fuzzer still sends something, and the server still has to answer it sanely.

/** A JSON Schema as it appears in the merged OpenAPI document. */
export type Schema = { [keyword: string]: unknown };

const MAX_STRING = 64;
const MAX_ITEMS = 4;

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An arbitrary of values `schema` accepts (as far as the keywords it knows go). */
export function arbitraryOf(schema: unknown, depth = 0): fc.Arbitrary<unknown> {
  if (!isSchema(schema) || depth > 6) return fc.jsonValue({ maxDepth: 2 });
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length > 0)
    return fc.constantFrom(...(schema.enum as unknown[]));
  const variants = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) {
    return fc.oneof(...variants.map((variant) => arbitraryOf(variant, depth + 1)));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return arbitraryOf(Object.assign({}, ...(schema.allOf as Schema[])), depth + 1);
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const arbitraries = type.map((t) => ofType(t, schema, depth));
  return arbitraries.length === 1 ? arbitraries[0]! : fc.oneof(...arbitraries);
}

function ofType(type: string | undefined, schema: Schema, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return stringOf(schema);
    case 'integer':
      return fc.integer(bounds(schema, true));
    case 'number':
      return fc.double({ ...bounds(schema, false), noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = num(schema.minItems) ?? 0;
      const maxLength = Math.max(minLength, Math.min(num(schema.maxItems) ?? MAX_ITEMS, MAX_ITEMS));
      return fc.array(arbitraryOf(schema.items, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectOf(schema, depth);
    default:
      if (isSchema(schema.properties)) return objectOf(schema, depth);
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** fast-check's integer and double bounds from minimum/maximum and their exclusive forms. */
function bounds(schema: Schema, integer: boolean): { min: number; max: number } {
  const limit = integer ? 2 ** 31 - 1 : 1e9;
  let min = Math.max(num(schema.minimum) ?? -limit, -limit);
  let max = Math.min(num(schema.maximum) ?? limit, limit);
  const exclusiveMin = num(schema.exclusiveMinimum);
  const exclusiveMax = num(schema.exclusiveMaximum);
  if (exclusiveMin !== undefined) min = Math.max(min, integer ? Math.floor(exclusiveMin) + 1 : exclusiveMin);
  if (exclusiveMax !== undefined) max = Math.min(max, integer ? Math.ceil(exclusiveMax) - 1 : exclusiveMax);
  if (integer) {
    min = Math.ceil(min);
    max = Math.floor(max);
  }
  return { min, max: Math.max(min, max) };
}

const someDate = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2099-12-31T00:00:00Z'),
  noInvalidDate: true,
});

function stringOf(schema: Schema): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.max(minLength, Math.min(num(schema.maxLength) ?? MAX_STRING, MAX_STRING));
  const fits = (s: string) => s.length >= minLength && s.length <= (num(schema.maxLength) ?? Infinity);
  const pattern = typeof schema.pattern === 'string' ? safeRegExp(schema.pattern) : undefined;
  let base: fc.Arbitrary<string>;
  switch (schema.format) {
    case 'uuid':
      base = fc.uuid();
      break;
    case 'date-time':
      base = someDate.map((d) => d.toISOString());
      break;
    case 'date':
      base = someDate.map((d) => d.toISOString().slice(0, 10));
      break;
    case 'email':
      base = fc.emailAddress();
      break;
    case 'uri':
    case 'url':
      base = fc.webUrl();
      break;
    default:
      base = pattern
        ? fc.stringMatching(pattern)
        : fc.string({ minLength, maxLength, unit: 'grapheme-ascii' });
  }
  // A format and a pattern together: keep what both accept (the formats above nearly always match).
  if (pattern && schema.format !== undefined) base = base.filter((s) => pattern.test(s));
  return base.filter(fits);
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    try {
      return new RegExp(pattern);
    } catch {
      return undefined;
    }
  }
}

function objectOf(schema: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const keys = Object.keys(properties);
  if (keys.length === 0) {
    // A map (`additionalProperties: {schema}` or open): a few entries.
    return schema.additionalProperties === false
      ? fc.constant({})
      : fc.dictionary(
          fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme-ascii' }),
          arbitraryOf(isSchema(schema.additionalProperties) ? schema.additionalProperties : {}, depth + 1),
          { maxKeys: 3 },
        );
  }
  const model = Object.fromEntries(keys.map((key) => [key, arbitraryOf(properties[key], depth + 1)]));
  return fc.record(model, { requiredKeys: keys.filter((key) => required.has(key)) });
}
