import type { EventDefinition } from '../define-event.ts';
import { envelopeSchema } from '../envelope.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import { streamFor } from '../routing.ts';
import { zodToJsonSchema } from './json-schema.ts';

export interface AsyncApiOptions {
  /** `info.version`: the contracts package version. */
  version: string;
}

const ENVELOPE = 'CloudEventsEnvelope';

/**
 * One AsyncAPI 3.0 document for every catalogued event: a channel per type
 * (its address is the NATS subject, which is the type), a `send` operation by
 * the producing service, and a message whose payload is the CloudEvents
 * envelope (structured mode: the whole event is the JSON body) with `data`
 * described by the event's schema. Schemas are AsyncAPI Schema objects
 * (JSON Schema draft-07), the format AsyncAPI tools read by default.
 */
export function buildAsyncApi(definitions: readonly EventDefinition[], options: AsyncApiOptions): JsonObject {
  const sorted = [...definitions].sort((a, b) => a.type.localeCompare(b.type));
  const producers = [...new Set(sorted.map((d) => d.producer))].sort();
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Tessera events',
      version: options.version,
      description: [
        'Every event Tessera services publish on NATS JetStream, generated from the zod schemas in',
        '`@tessera/contracts`. Each producing service has one stream bound to `<producer>.>`; an',
        "event's subject is its type, `<producer>.<aggregate>.<event>.v<major>`, optionally under a",
        'namespace prefix (`<prefix>.<type>`). Additive optional fields keep the version; any other',
        'change is published as a new `vN+1` type beside the old one.',
      ].join('\n'),
      tags: producers.map((name) => ({ name, description: `Events produced by the ${name} service` })),
    },
    defaultContentType: 'application/json',
    channels: Object.fromEntries(sorted.map((d) => [d.type, channel(d)])),
    operations: Object.fromEntries(sorted.map((d) => [operationId(d), operation(d)])),
    components: {
      schemas: {
        [ENVELOPE]: rebaseRefs(zodToJsonSchema(envelopeSchema, 'draft-07'), ENVELOPE),
        ...Object.fromEntries(sorted.map((d) => [dataSchemaId(d), dataSchema(d)])),
      },
      messages: Object.fromEntries(sorted.map((d) => [d.type, message(d)])),
    },
  };
}

export function operationId(definition: EventDefinition): string {
  return `send.${definition.type}`;
}

function dataSchemaId(definition: EventDefinition): string {
  return `${definition.type}.data`;
}

function channel(d: EventDefinition): JsonObject {
  const stream = streamFor(d.producer);
  return {
    address: d.type,
    title: d.type,
    description: `${d.description}\n\nJetStream stream \`${stream.name}\` (subjects \`${stream.subjects.join(', ')}\`).`,
    messages: { [d.type]: { $ref: `#/components/messages/${d.type}` } },
  };
}

function operation(d: EventDefinition): JsonObject {
  return {
    action: 'send',
    title: `${d.producer} sends ${d.type}`,
    summary: d.description,
    channel: { $ref: `#/channels/${d.type}` },
    messages: [{ $ref: `#/channels/${d.type}/messages/${d.type}` }],
    tags: [{ name: d.producer }],
  };
}

function message(d: EventDefinition): JsonObject {
  return {
    name: d.type,
    title: d.type,
    summary: d.description,
    contentType: 'application/json',
    tags: [{ name: d.producer }],
    correlationId: {
      description: 'Shared by every event that follows from one user action.',
      location: '$message.payload#/correlationid',
    },
    headers: {
      type: 'object',
      properties: {
        'Nats-Msg-Id': {
          type: 'string',
          description: 'The envelope `id`: JetStream de-duplicates on it.',
        },
      },
    },
    payload: {
      allOf: [
        { $ref: `#/components/schemas/${ENVELOPE}` },
        {
          type: 'object',
          properties: {
            type: { const: d.type },
            data: { $ref: `#/components/schemas/${dataSchemaId(d)}` },
          },
        },
      ],
    },
  };
}

function dataSchema(d: EventDefinition): JsonObject {
  const { title: _title, description: _description, ...schema } = zodToJsonSchema(d.data, 'draft-07');
  return rebaseRefs({ title: d.type, description: d.description, ...schema }, dataSchemaId(d)) as JsonObject;
}

/**
 * A schema's own `#/definitions/...` references point at its root; once it is
 * placed under `components.schemas.<id>`, they must point there.
 */
export function rebaseRefs(value: unknown, componentId: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rebaseRefs(item, componentId));
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) =>
      key === '$ref' && typeof item === 'string' && item.startsWith('#')
        ? [key, `#/components/schemas/${componentId}${item.slice(1)}`]
        : [key, rebaseRefs(item, componentId)],
    ),
  );
}
