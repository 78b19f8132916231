import fc from 'fast-check';
import { arbitraryOf, type Schema } from './schema-arbitrary.ts';

// What a hostile or broken client sends: a valid value bent out of shape (a wrong type, a missing
// or an extra field, a huge or deeply nested value, odd Unicode), bad path parameters, bad tokens.

/** Strings that have broken parsers, databases and loggers before. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800', // a lone surrogate: not encodable as UTF-8
  '\uDFFF\uD800',
  '\u202Eevil\u202C', // right-to-left override
  '\uFEFF',
  'e\u0301', // a combining accent (NFD)
  '\u{1F469}\u200D\u{1F4BB}', // an emoji sequence
  'Ω≈ç√∫˜µ≤≥÷',
  '٠١٢٣٤٥٦٧٨٩', // Arabic-Indic digits
  "'; drop table outbox; --",
  '{{7*7}}',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  'null',
  'true',
  '[]',
  '{}',
];

/** Numbers at the edges of what JSON and our integer minor units can carry. */
export const ODD_NUMBERS: readonly number[] = [
  0,
  -1,
  -0,
  0.5,
  1e-7,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1.7976931348623157e308,
  Number.MIN_VALUE,
];

const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  fc.constantFrom(...ODD_NUMBERS),
  fc.constantFrom(null, true, false, [], {}, [null], { '': null }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** JSON text of a value nested `depth` deep, arrays or objects (built as text: too deep to stringify). */
export function deeplyNestedJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Huge values: long strings, long arrays, many keys, nesting deeper than any of our schemas. */
export const hugeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(100_000, 1_000_000).map((n) => 'x'.repeat(n)),
  fc.constant(Array.from({ length: 50_000 }, (_, i) => i)),
  fc.constant(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))),
  fc
    .constantFrom('array' as const, 'object' as const)
    .map((kind) => JSON.parse(deeplyNestedJson(64, kind)) as unknown),
);

/** Whole JSON bodies that are huge: the values above, or nesting thousands deep. */
export const hugeJson: fc.Arbitrary<string> = fc.oneof(
  hugeValue.map((value) => JSON.stringify(value)),
  fc
    .constantFrom(1_000, 10_000, 100_000)
    .chain((depth) =>
      fc.constantFrom('array' as const, 'object' as const).map((kind) => deeplyNestedJson(depth, kind)),
    ),
);

/** Query parameter values a client should never send. */
export const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  fc.constantFrom(...ODD_NUMBERS).map(String),
  fc.constantFrom('x'.repeat(5_000), '9'.repeat(400), '-9007199254740993', '1.5', '[object Object]'),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A valid value of `schema` with one hostile change: a field removed, added or replaced by an odd
 * or huge value, or the whole value replaced.
 */
export function hostileOf(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const valid = arbitraryOf(schema ?? {});
  const mutated = valid.chain((value) => {
    if (!isObject(value) || Object.keys(value).length === 0) {
      return fc.oneof(oddValue, hugeValue, fc.constant([value]), fc.constant({ value }));
    }
    const keys = Object.keys(value);
    const key = fc.constantFrom(...keys);
    return fc.oneof(
      // A required or optional field missing.
      key.map((k) => {
        const { [k]: _dropped, ...rest } = value;
        return rest;
      }),
      // A field of the wrong type or an odd value.
      fc.tuple(key, oddValue).map(([k, odd]) => ({ ...value, [k]: odd })),
      // A huge field.
      fc.tuple(key, hugeValue).map(([k, huge]) => ({ ...value, [k]: huge })),
      // An extra field, including the ones prototype pollution tries.
      fc
        .tuple(fc.constantFrom('__proto__', 'constructor', 'extra', 'id', 'status', 'owner_id'), oddValue)
        .map(([k, odd]) => JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(odd) ?? 'null'}}`) as object)
        .map((extra) => ({ ...value, ...extra })),
      // The whole body something else.
      oddValue,
    );
  });
  return mutated;
}

/** Header values a client should never send (what HTTP lets through: visible ASCII and spaces). */
export const hostileHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', 'x'.repeat(8_000), 'null', '-1', "'; drop table idempotency_keys; --", '%00'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);

/** Path parameter values a client should never send, URL-encoded as a client would put them in a path. */
export const badPathParameter: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'not-a-uuid',
    '0',
    '-1',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '..',
    '%2e%2e',
    '%00',
    'x'.repeat(5_000),
    'a%20b',
    '%F0%9F%92%A9',
    '%C0%AF', // an overlong UTF-8 slash
    '%ZZ', // a broken escape
  ),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
);

/** Authorization headers that must never authenticate anyone. */
export function badAuthorizations(validToken: string): string[] {
  const [header, payload] = validToken.split('.');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const tampered = Buffer.from(
    JSON.stringify({
      ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString() || '{}'),
      role: 'admin',
    }),
  ).toString('base64url');
  return [
    'Bearer',
    'Bearer ',
    'Basic YWRtaW46YWRtaW4=',
    'Bearer not.a.jwt',
    `Bearer ${'a'.repeat(10_000)}`,
    `Bearer ${none}.${payload}.`,
    `Bearer ${header}.${tampered}.${validToken.split('.')[2] ?? ''}`,
    `Bearer ${validToken}x`,
    'Bearer tsk_live_0000000000000000000000000000000000000000',
  ];
}
