import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { eventDefinitions } from '../catalog.ts';
import { defineEvent, type EventDefinition } from '../define-event.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import { buildAsyncApi, operationId, rebaseRefs } from './asyncapi.ts';

interface Category {
  name: string;
  children: Category[];
}
const category: z.ZodType<Category> = z.object({
  name: z.string(),
  get children() {
    return z.array(category);
  },
});

const extra: EventDefinition[] = [
  defineEvent('catalog.category.created.v1', {
    description: 'A category tree was created.',
    data: z.object({ root: category }),
  }),
  defineEvent('example.order.approved.v1', {
    description: 'An order was approved.',
    data: z.object({ submission_id: z.uuid(), reward: z.object({ amount: z.int(), currency: z.string() }) }),
  }),
];

function at(document: unknown, ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (isJsonObject(node) ? node[key] : undefined), document);
}

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (!isJsonObject(value)) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === '$ref' && typeof item === 'string' ? [item] : refsIn(item),
  );
}

describe('buildAsyncApi', () => {
  const definitions = [...eventDefinitions, ...extra];
  const document = buildAsyncApi(definitions, { version: '1.2.3' });
  const section = (name: string): Record<string, JsonObject> => document[name] as Record<string, JsonObject>;
  const components = document.components as Record<string, Record<string, JsonObject>>;

  it('is an AsyncAPI 3.0 document', () => {
    expect(document).toMatchObject({
      asyncapi: '3.0.0',
      info: { title: 'Tessera events', version: '1.2.3' },
    });
    expect(Object.keys(document)).toEqual([
      'asyncapi',
      'info',
      'defaultContentType',
      'channels',
      'operations',
      'components',
    ]);
  });

  it('has a channel, a send operation and a message for every event type, and nothing else', () => {
    const types = definitions.map((d) => d.type).sort();
    expect(Object.keys(section('channels')).sort()).toEqual(types);
    expect(Object.keys(section('operations')).sort()).toEqual(types.map((type) => `send.${type}`));
    expect(Object.keys(components.messages ?? {}).sort()).toEqual(types);
  });

  it.each(definitions.map((d) => [d.type, d] as const))('describes %s', (type, definition) => {
    expect(section('channels')[type]).toMatchObject({
      address: type,
      messages: { [type]: { $ref: `#/components/messages/${type}` } },
    });
    expect(section('operations')[operationId(definition)]).toMatchObject({
      action: 'send',
      channel: { $ref: `#/channels/${type}` },
      messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
      tags: [{ name: definition.producer }],
    });
    const message = components.messages?.[type];
    expect(message).toMatchObject({ name: type, contentType: 'application/json' });
    expect(message?.payload).toEqual({
      allOf: [
        { $ref: '#/components/schemas/CloudEventsEnvelope' },
        {
          type: 'object',
          properties: { type: { const: type }, data: { $ref: `#/components/schemas/${type}.data` } },
        },
      ],
    });
    expect(components.schemas?.[`${type}.data`]).toMatchObject({
      title: type,
      description: definition.description,
    });
  });

  it('tags every producer', () => {
    const producers = new Set(definitions.map((d) => d.producer));
    expect((document.info as { tags: { name: string }[] }).tags.map((tag) => tag.name)).toEqual(
      [...producers].sort(),
    );
    expect(producers).toContain('example');
  });

  it('has only references that resolve, including those inside recursive schemas', () => {
    const refs = refsIn(document);
    expect(refs).toContain('#/components/schemas/catalog.category.created.v1.data/definitions/__schema0');
    for (const ref of refs) expect(at(document, ref), ref).toBeDefined();
  });

  it('uses draft-07 schemas, the AsyncAPI default schema format', () => {
    for (const schema of Object.values(components.schemas ?? {})) {
      expect(schema).not.toHaveProperty('$schema');
      expect(JSON.stringify(schema)).not.toContain('$defs');
    }
  });
});

describe('rebaseRefs', () => {
  it('moves local references under the component, and leaves others alone', () => {
    expect(
      rebaseRefs({ a: { $ref: '#/definitions/x' }, b: [{ $ref: '#' }], c: { $ref: 'https://x/y' } }, 'k'),
    ).toEqual({
      a: { $ref: '#/components/schemas/k/definitions/x' },
      b: [{ $ref: '#/components/schemas/k' }],
      c: { $ref: 'https://x/y' },
    });
  });
});
