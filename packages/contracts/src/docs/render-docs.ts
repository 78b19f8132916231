import { stringify } from 'yaml';
import type { EventDefinition } from '../define-event.ts';
import { toJsonText } from '../json.ts';
import { buildAsyncApi } from './asyncapi.ts';
import { envelopeJsonSchema, toJsonSchema } from './json-schema.ts';

export interface GeneratedFile {
  /** Relative to the `generated/` folder, with `/` separators. */
  readonly path: string;
  readonly content: string;
}

export const JSON_SCHEMA_FOLDER = 'jsonschema';
export const ASYNCAPI_FILE = 'asyncapi.yaml';

const YAML_HEADER = '# Generated from the zod schemas by `pnpm contracts:docs`. Do not edit.\n';

/** Every generated doc file and its exact content, without touching the disk. */
export function renderDocs(definitions: readonly EventDefinition[], version: string): GeneratedFile[] {
  const asyncApi = stringify(buildAsyncApi(definitions, { version }), {
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
  return [
    { path: ASYNCAPI_FILE, content: YAML_HEADER + asyncApi },
    { path: `${JSON_SCHEMA_FOLDER}/envelope.json`, content: toJsonText(envelopeJsonSchema()) },
    ...definitions.map((definition) => ({
      path: `${JSON_SCHEMA_FOLDER}/${definition.type}.json`,
      content: toJsonText(toJsonSchema(definition)),
    })),
  ];
}
