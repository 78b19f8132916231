import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { eventDefinitions } from '../catalog.ts';
import { defineEvent } from '../define-event.ts';
import { envelopeJsonSchema, toJsonSchema } from './json-schema.ts';

const rewarded = defineEvent('ledger.reward.granted.v1', {
  description: 'A reward was granted.',
  data: z.object({
    reward_id: z.uuid(),
    amount: z.object({ amount: z.int().min(1), currency: z.string().length(3), memo: z.string().optional() }),
    reason: z.enum(['approved', 'bonus']),
    note: z.string().max(200).optional(),
    revoked_at: z.iso.datetime().nullable(),
    tags: z.array(z.object({ key: z.string(), value: z.string().optional() })).default([]),
  }),
});

describe('toJsonSchema', () => {
  const schema = toJsonSchema(rewarded);

  it('is a draft 2020-12 schema with an $id, the type as title and the description', () => {
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'urn:tessera:contracts:events:ledger.reward.granted.v1',
      title: 'ledger.reward.granted.v1',
      description: 'A reward was granted.',
      type: 'object',
    });
  });

  it('lists every field, and as required only the required ones (a default makes a field optional to send)', () => {
    expect(Object.keys(schema.properties as object)).toEqual(Object.keys(rewarded.data.shape));
    expect(schema.required).toEqual(['reward_id', 'amount', 'reason', 'revoked_at']);
  });

  it('does the same for nested objects and array items', () => {
    const properties = schema.properties as Record<
      string,
      { required?: string[]; items?: { required?: string[] } }
    >;
    expect(properties.amount?.required).toEqual(['amount', 'currency']);
    expect(properties.tags?.items?.required).toEqual(['key']);
  });

  it('keeps the constraints, enums and nullability', () => {
    expect(schema.properties).toMatchObject({
      reward_id: { type: 'string', format: 'uuid' },
      amount: {
        properties: { amount: { type: 'integer', minimum: 1 }, currency: { minLength: 3, maxLength: 3 } },
      },
      reason: { enum: ['approved', 'bonus'] },
      note: { type: 'string', maxLength: 200 },
      revoked_at: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
    });
  });

  it('leaves objects open, since consumers strip fields they do not know', () => {
    expect(schema).not.toHaveProperty('additionalProperties');
  });

  it('converts every catalogued event', () => {
    for (const definition of eventDefinitions) expect(toJsonSchema(definition).title).toBe(definition.type);
  });

  it('refuses what JSON cannot carry, and transforms', () => {
    const dated = defineEvent('a.b.dated.v1', { description: 'd', data: z.object({ at: z.date() }) });
    const transformed = defineEvent('a.b.transformed.v1', {
      description: 'd',
      data: z.object({ n: z.string().transform((s) => s.length) }),
    });
    expect(() => toJsonSchema(dated)).toThrow(/event schemas must be plain JSON/);
    expect(() => toJsonSchema(transformed)).toThrow(/event schemas must be plain JSON/);
  });
});

describe('envelopeJsonSchema', () => {
  it('describes the CloudEvents envelope', () => {
    const schema = envelopeJsonSchema();
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'urn:tessera:contracts:envelope',
    });
    expect(schema.required).toEqual([
      'specversion',
      'id',
      'source',
      'type',
      'subject',
      'time',
      'datacontenttype',
      'correlationid',
      'data',
    ]);
  });
});
