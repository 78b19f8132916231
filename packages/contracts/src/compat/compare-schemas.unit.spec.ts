import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineEvent } from '../define-event.ts';
import { toJsonSchema } from '../docs/json-schema.ts';
import { compareSchemas } from './compare-schemas.ts';
import type { IncompatibilityKind } from './incompatibility.ts';

/** Converted exactly as the check converts the catalog. */
function schemaOf(data: z.ZodObject, description = 'An event for tests.') {
  return toJsonSchema(defineEvent('tests.thing.changed.v1', { description, data }));
}

function diff(previous: z.ZodObject, current: z.ZodObject) {
  return compareSchemas(schemaOf(previous), schemaOf(current));
}

/** [kind, path] of every incompatibility, for terse assertions. */
function found(previous: z.ZodObject, current: z.ZodObject): [IncompatibilityKind, string][] {
  return diff(previous, current).map((i) => [i.kind, i.path]);
}

const base = z.object({
  id: z.uuid(),
  title: z.string().min(1).max(200),
  note: z.string().max(500).optional(),
  count: z.int().min(0),
  status: z.enum(['open', 'closed']),
  reward: z.object({ amount: z.int().min(1), currency: z.string().length(3) }),
  tags: z.array(z.string()),
});

describe('compareSchemas: compatible changes', () => {
  it('accepts an identical schema', () => {
    expect(diff(base, base)).toEqual([]);
    expect(diff(base, base.extend({}))).toEqual([]);
  });

  it('accepts a new optional field, at the top and nested', () => {
    expect(diff(base, base.extend({ comment: z.string().optional() }))).toEqual([]);
    expect(
      diff(
        base,
        base.extend({
          reward: z.object({
            amount: z.int().min(1),
            currency: z.string().length(3),
            memo: z.string().optional(),
          }),
        }),
      ),
    ).toEqual([]);
  });

  it('accepts a new field with a default (optional to send) and a nullish one', () => {
    expect(diff(base, base.extend({ priority: z.int().default(0), hint: z.string().nullish() }))).toEqual([]);
  });

  it('accepts loosened constraints', () => {
    const loose = base.extend({
      title: z.string().max(1000),
      count: z.int().min(-5),
      note: z.string().optional(),
      reward: z.object({ amount: z.int().min(0), currency: z.string().min(3).max(3) }),
    });
    expect(diff(base, loose)).toEqual([]);
    expect(diff(z.object({ a: z.string().regex(/^a+$/) }), z.object({ a: z.string() }))).toEqual([]);
    expect(diff(z.object({ a: z.email() }), z.object({ a: z.string() }))).toEqual([]);
    expect(diff(z.object({ a: z.number().positive() }), z.object({ a: z.number().nonnegative() }))).toEqual(
      [],
    );
    expect(
      diff(z.object({ a: z.number().multipleOf(10) }), z.object({ a: z.number().multipleOf(5) })),
    ).toEqual([]);
    expect(
      diff(z.object({ a: z.array(z.string()).min(1).max(3) }), z.object({ a: z.array(z.string()) })),
    ).toEqual([]);
  });

  it('ignores descriptions and other annotations', () => {
    expect(
      compareSchemas(
        schemaOf(base, 'Before.'),
        schemaOf(base.extend({ title: z.string().min(1).max(200).describe('The title.') }), 'After.'),
      ),
    ).toEqual([]);
  });

  it('accepts the same recursive schema', () => {
    interface Node {
      name: string;
      children: Node[];
    }
    const node: z.ZodType<Node> = z.object({
      name: z.string(),
      get children() {
        return z.array(node);
      },
    });
    expect(diff(z.object({ tree: node }), z.object({ tree: node }))).toEqual([]);
  });
});

describe('compareSchemas: fields', () => {
  it('reports a removed field, required or optional', () => {
    expect(found(base, base.omit({ title: true }))).toEqual([['field-removed', '$.title']]);
    expect(found(base, base.omit({ note: true }))).toEqual([['field-removed', '$.note']]);
  });

  it('reports a renamed field (removed + added with the same schema) once', () => {
    const renamed = base.omit({ title: true }).extend({ name: z.string().min(1).max(200) });
    const incompatibilities = diff(base, renamed);
    expect(incompatibilities).toEqual([
      {
        kind: 'field-renamed',
        path: '$.title',
        message:
          'field "title" renamed to "name" (removed, and a field with its schema added); consumers built with the previous schema look for "title"',
      },
    ]);
  });

  it('reports a removed field and a new required one when their schemas differ', () => {
    const changed = base.omit({ title: true }).extend({ name: z.string() });
    expect(found(base, changed)).toEqual([
      ['field-removed', '$.title'],
      ['required-field-added', '$.name'],
    ]);
  });

  it('reports a new required field', () => {
    const [incompatibility] = diff(base, base.extend({ campaign_id: z.uuid() }));
    expect(incompatibility).toEqual({
      kind: 'required-field-added',
      path: '$.campaign_id',
      message: 'new required field "campaign_id"; events already in the stream lack it',
    });
  });

  it('reports an optional field made required, and a required one made optional', () => {
    expect(found(base, base.extend({ note: z.string().max(500) }))).toEqual([['made-required', '$.note']]);
    expect(found(base, base.extend({ title: z.string().min(1).max(200).optional() }))).toEqual([
      ['made-optional', '$.title'],
    ]);
  });

  it('reports a closed (strict) object, and any field added to one', () => {
    expect(found(base, base.strict())).toEqual([['constraint-tightened', '$']]);
    expect(found(base.strict(), base.extend({ extra: z.string().optional() }).strict())).toEqual([
      ['field-added-to-closed-object', '$.extra'],
    ]);
    expect(found(base.strict(), base)).toEqual([['field-added-to-closed-object', '$']]);
  });

  it('quotes field names that are not identifiers', () => {
    expect(found(z.object({ 'a-b': z.string() }), z.object({}))).toEqual([['field-removed', '$["a-b"]']]);
  });
});

describe('compareSchemas: types and values', () => {
  it('reports a retyped field', () => {
    const [incompatibility] = diff(base, base.extend({ count: z.string() }));
    expect(incompatibility).toEqual({
      kind: 'type-changed',
      path: '$.count',
      message: 'type changed from integer to string',
    });
    expect(found(base, base.extend({ count: z.number().min(0) }))).toEqual([['type-changed', '$.count']]);
    expect(found(z.object({ a: z.unknown() }), z.object({ a: z.string() }))).toEqual([
      ['type-changed', '$.a'],
    ]);
    expect(found(z.object({ a: z.string() }), z.object({ a: z.unknown() }))).toEqual([
      ['type-changed', '$.a'],
    ]);
    expect(found(z.object({ a: z.string() }), z.object({ a: z.object({ b: z.string() }) }))).toEqual([
      ['type-changed', '$.a'],
    ]);
  });

  it('reports a type added to or removed from a simple union', () => {
    const both = z.object({ a: z.union([z.string(), z.number()]) });
    const one = z.object({ a: z.string() });
    expect(found(both, one)).toEqual([['type-changed', '$.a']]);
    expect(found(one, both)).toEqual([['type-changed', '$.a']]);
  });

  it('reports enum values added and removed', () => {
    const [added] = diff(base, base.extend({ status: z.enum(['open', 'closed', 'archived']) }));
    expect(added).toEqual({
      kind: 'enum-values-added',
      path: '$.status',
      message: 'values "archived" added; consumers built with the previous schema reject them',
    });
    expect(found(base, base.extend({ status: z.enum(['open']) }))).toEqual([
      ['enum-values-removed', '$.status'],
    ]);
    expect(found(base, base.extend({ status: z.enum(['closed', 'open']) }))).toEqual([]);
  });

  it('reports an enum loosened to any string, or a string restricted to an enum', () => {
    expect(found(base, base.extend({ status: z.string() }))).toEqual([['enum-values-added', '$.status']]);
    expect(found(base.extend({ status: z.string() }), base)).toEqual([['constraint-tightened', '$.status']]);
  });

  it('reports a changed or dropped const', () => {
    const v1 = z.object({ kind: z.literal('probe') });
    expect(found(v1, z.object({ kind: z.literal('check') }))).toEqual([['const-changed', '$.kind']]);
    expect(found(v1, z.object({ kind: z.string() }))).toEqual([['const-changed', '$.kind']]);
    expect(found(z.object({ n: z.literal(1) }), z.object({ n: z.literal(2) }))).toEqual([
      ['const-changed', '$.n'],
    ]);
    expect(found(v1, z.object({ kind: z.enum(['probe', 'check']) }))).toEqual([
      ['enum-values-added', '$.kind'],
    ]);
  });
});

describe('compareSchemas: null and optional', () => {
  it('reports a field made nullable or no longer nullable (simple types: type ["x", "null"])', () => {
    expect(found(base, base.extend({ title: z.string().min(1).max(200).nullable() }))).toEqual([
      ['made-nullable', '$.title'],
    ]);
    expect(found(base.extend({ title: z.string().min(1).max(200).nullable() }), base)).toEqual([
      ['made-non-nullable', '$.title'],
    ]);
  });

  it('does the same for objects and enums (anyOf [X, null]), and still compares X', () => {
    const nullable = base.extend({ reward: base.shape.reward.nullable() });
    expect(found(base, nullable)).toEqual([['made-nullable', '$.reward']]);
    expect(
      found(nullable, base.extend({ reward: base.shape.reward.extend({ memo: z.string() }).nullable() })),
    ).toEqual([['required-field-added', '$.reward.memo']]);
    expect(found(base, base.extend({ status: base.shape.status.nullable() }))).toEqual([
      ['made-nullable', '$.status'],
    ]);
    expect(
      found(
        base.extend({ status: base.shape.status.nullable() }),
        base.extend({ status: z.enum(['open']).nullable() }),
      ),
    ).toEqual([['enum-values-removed', '$.status']]);
  });

  it('tells optional (may be absent) from nullable (may be null)', () => {
    const optional = z.object({ a: z.string().optional() });
    const nullable = z.object({ a: z.string().nullable() });
    const nullish = z.object({ a: z.string().nullish() });
    expect(found(optional, nullable)).toEqual([
      ['made-required', '$.a'],
      ['made-nullable', '$.a'],
    ]);
    expect(found(nullish, optional)).toEqual([['made-non-nullable', '$.a']]);
    expect(found(nullable, nullish)).toEqual([['made-optional', '$.a']]);
  });
});

describe('compareSchemas: constraints', () => {
  it.each([
    ['maxLength lowered', z.string().max(10), z.string().max(5), 'maxLength lowered from 10 to 5'],
    ['maxLength added', z.string(), z.string().max(5), 'maxLength 5 added'],
    ['minLength raised', z.string(), z.string().min(1), 'minLength raised from 0 to 1'],
    ['minimum raised', z.int().min(0), z.int().min(1), 'lower bound raised from >= 0 to >= 1'],
    [
      'minimum made exclusive',
      z.number().min(0),
      z.number().positive(),
      'lower bound raised from >= 0 to > 0',
    ],
    ['maximum lowered', z.number().max(100), z.number().lt(100), 'upper bound lowered from <= 100 to < 100'],
    ['maximum added', z.number(), z.number().max(9), 'upper bound <= 9 added'],
    [
      'multipleOf changed',
      z.number().multipleOf(5),
      z.number().multipleOf(10),
      'multipleOf changed from 5 to 10',
    ],
    ['format added', z.string(), z.email(), 'format "email" added'],
    ['format changed', z.uuid(), z.email(), 'format changed from "uuid" to "email"'],
    ['pattern added', z.string(), z.string().regex(/^[a-z]+$/), 'pattern /^[a-z]+$/ added'],
    ['minItems raised', z.array(z.string()), z.array(z.string()).nonempty(), 'minItems raised from 0 to 1'],
    [
      'maxItems lowered',
      z.array(z.string()).max(5),
      z.array(z.string()).max(4),
      'maxItems lowered from 5 to 4',
    ],
  ])('reports %s', (_name, before, after, message) => {
    expect(diff(z.object({ a: before }), z.object({ a: after }))).toEqual([
      { kind: 'constraint-tightened', path: '$.a', message },
    ]);
  });

  it('reports a changed pattern, even behind the same format (uuid to uuidv7)', () => {
    const [incompatibility] = diff(z.object({ a: z.uuid() }), z.object({ a: z.uuidv7() }));
    expect(incompatibility).toMatchObject({ kind: 'constraint-tightened', path: '$.a' });
    expect(incompatibility?.message).toMatch(/^pattern changed from/);
  });

  it('reports every tightened constraint of a field', () => {
    expect(found(z.object({ a: z.string().max(10) }), z.object({ a: z.string().min(2).max(5) }))).toEqual([
      ['constraint-tightened', '$.a'],
      ['constraint-tightened', '$.a'],
    ]);
  });
});

describe('compareSchemas: nested objects, arrays, records, tuples', () => {
  it('recurses into nested objects', () => {
    expect(
      found(base, base.extend({ reward: z.object({ amount: z.number(), currency: z.string().length(3) }) })),
    ).toEqual([['type-changed', '$.reward.amount']]);
    expect(found(base, base.extend({ reward: z.object({ amount: z.int().min(1) }) }))).toEqual([
      ['field-removed', '$.reward.currency'],
    ]);
  });

  it('recurses into array items', () => {
    expect(found(base, base.extend({ tags: z.array(z.int()) }))).toEqual([['type-changed', '$.tags[*]']]);
    const lines = z.object({ lines: z.array(z.object({ sku: z.string(), qty: z.int() })) });
    expect(found(lines, z.object({ lines: z.array(z.object({ sku: z.string() })) }))).toEqual([
      ['field-removed', '$.lines[*].qty'],
    ]);
    const matrix = z.object({ m: z.array(z.array(z.number())) });
    expect(found(matrix, z.object({ m: z.array(z.array(z.string())) }))).toEqual([
      ['type-changed', '$.m[*][*]'],
    ]);
  });

  it('recurses into records, their values and their keys', () => {
    const scores = z.object({ scores: z.record(z.string(), z.number()) });
    expect(found(scores, z.object({ scores: z.record(z.string(), z.string()) }))).toEqual([
      ['type-changed', '$.scores.*'],
    ]);
    expect(found(scores, z.object({ scores: z.record(z.string().max(3), z.number()) }))).toEqual([
      ['constraint-tightened', '$.scores[key]'],
    ]);
    const keyed = z.object({ limits: z.record(z.enum(['daily', 'weekly']), z.int()) });
    expect(
      found(keyed, z.object({ limits: z.record(z.enum(['daily', 'weekly', 'monthly']), z.int()) })),
    ).toEqual([
      ['required-field-added', '$.limits.monthly'],
      ['enum-values-added', '$.limits[key]'],
    ]);
  });

  it('recurses into tuple elements', () => {
    const pair = z.object({ p: z.tuple([z.string(), z.number()]) });
    expect(found(pair, z.object({ p: z.tuple([z.string(), z.string()]) }))).toEqual([
      ['type-changed', '$.p[1]'],
    ]);
  });

  it('follows recursive schemas ($ref) without looping, and reports changes inside them', () => {
    interface Before {
      name: string;
      children: Before[];
    }
    interface After {
      name: number;
      children: After[];
    }
    const before: z.ZodType<Before> = z.object({
      name: z.string(),
      get children() {
        return z.array(before);
      },
    });
    const after: z.ZodType<After> = z.object({
      name: z.number(),
      get children() {
        return z.array(after);
      },
    });
    expect(found(z.object({ tree: before }), z.object({ tree: after }))).toEqual([
      ['type-changed', '$.tree.name'],
    ]);
  });
});

describe('compareSchemas: unions', () => {
  const bank = z.object({ kind: z.literal('bank'), iban: z.string() });
  const card = z.object({ kind: z.literal('card'), last4: z.string().length(4) });
  const payout = z.object({ payout: z.discriminatedUnion('kind', [bank, card]) });

  it('pairs variants by discriminator, whatever their order', () => {
    expect(diff(payout, z.object({ payout: z.discriminatedUnion('kind', [card, bank]) }))).toEqual([]);
  });

  it('reports a variant added or removed', () => {
    const wallet = z.object({ kind: z.literal('wallet'), address: z.string() });
    expect(found(payout, z.object({ payout: z.discriminatedUnion('kind', [bank, card, wallet]) }))).toEqual([
      ['variant-added', '$.payout<kind="wallet">'],
    ]);
    expect(found(payout, z.object({ payout: z.discriminatedUnion('kind', [bank]) }))).toEqual([
      ['variant-removed', '$.payout<kind="card">'],
    ]);
  });

  it('reports changes inside a variant', () => {
    const changed = z.object({
      payout: z.discriminatedUnion('kind', [bank.extend({ bic: z.string() }), card]),
    });
    expect(found(payout, changed)).toEqual([['required-field-added', '$.payout<kind="bank">.bic']]);
  });

  it('pairs variants of a plain union by type', () => {
    const plain = z.object({ v: z.union([z.string(), z.object({ x: z.int() })]) });
    expect(found(plain, z.object({ v: z.union([z.string().max(3), z.object({ x: z.int() })]) }))).toEqual([
      ['constraint-tightened', '$.v<string>'],
    ]);
    expect(
      found(plain, z.object({ v: z.union([z.string(), z.object({ x: z.int() }), z.array(z.int())]) })),
    ).toEqual([['variant-added', '$.v<array>']]);
  });

  it('handles a nullable union', () => {
    expect(
      found(payout, z.object({ payout: z.discriminatedUnion('kind', [bank, card]).nullable() })),
    ).toEqual([['made-nullable', '$.payout']]);
  });
});

describe('compareSchemas: what it cannot judge', () => {
  it('reports a change to a keyword it does not reason about, for review by hand', () => {
    const previous = { type: 'object', properties: { a: { type: 'string' } } };
    const current = { type: 'object', properties: { a: { type: 'string', not: { const: 'x' } } } };
    expect(compareSchemas(previous, current)).toEqual([
      {
        kind: 'unsupported-change',
        path: '$.a',
        message: '"not" changed, which this check cannot judge: review it by hand',
      },
    ]);
  });
});
