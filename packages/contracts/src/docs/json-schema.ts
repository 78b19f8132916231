import { z } from 'zod';
import type { EventDefinition } from '../define-event.ts';
import { envelopeSchema } from '../envelope.ts';
import type { JsonObject } from '../json.ts';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** Base of the `$id` of every generated schema: a name, not a location to fetch. */
export const SCHEMA_ID_BASE = 'urn:tessera:contracts';

export type JsonSchemaTarget = 'draft-2020-12' | 'draft-07';

/**
 * The JSON Schema of what a consumer accepts (zod's input side: a field with a
 * default is optional). Throws for anything JSON cannot carry (dates, bigints)
 * and for transforms, since a producer sends the parsed output, which a
 * consumer then parses again as input: the two must be the same JSON.
 */
export function zodToJsonSchema(schema: z.ZodType, target: JsonSchemaTarget = 'draft-2020-12'): JsonObject {
  try {
    z.toJSONSchema(schema, { io: 'output', target });
    const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', target }) as JsonObject;
    return rest;
  } catch (error) {
    throw new Error(`event schemas must be plain JSON: ${(error as Error).message}`, { cause: error });
  }
}

export function schemaIdOf(type: string): string {
  return `${SCHEMA_ID_BASE}:events:${type}`;
}

/**
 * The standalone JSON Schema (draft 2020-12) of an event's `data`. The same
 * document is checked in as the event's compatibility snapshot.
 */
export function toJsonSchema(definition: EventDefinition): JsonObject {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: schemaIdOf(definition.type),
    title: definition.type,
    description: definition.description,
    ...withoutAnnotations(zodToJsonSchema(definition.data)),
  };
}

/** The JSON Schema (draft 2020-12) of the CloudEvents envelope every event travels in. */
export function envelopeJsonSchema(): JsonObject {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `${SCHEMA_ID_BASE}:envelope`,
    title: 'Tessera event envelope',
    description:
      'CloudEvents 1.0 attributes plus correlationid, causationid and a W3C traceparent. ' +
      '`data` is validated against the schema of the event `type`.',
    ...zodToJsonSchema(envelopeSchema),
  };
}

function withoutAnnotations(schema: JsonObject): JsonObject {
  const { title: _title, description: _description, ...rest } = schema;
  return rest;
}
