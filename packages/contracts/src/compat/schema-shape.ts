import { isJsonObject, type JsonObject } from '../json.ts';

/**
 * A schema reduced to what the comparison needs. zod 4 writes "nullable" two
 * ways: `type: ["string", "null"]` for a simple type and `anyOf: [X, {type:
 * "null"}]` otherwise; both become `nullable` here, and `schema` is the rest.
 */
export interface Shape {
  /** The non-null part, with `$ref`s followed. */
  readonly schema: JsonObject;
  /** Sorted JSON types without `null` (unless it is the only one); `any` when unconstrained. */
  readonly types: readonly string[] | 'any';
  readonly nullable: boolean;
  /** The non-null alternatives of a union (`anyOf`/`oneOf`) of two or more. */
  readonly variants?: readonly JsonObject[];
}

/** Follows local `$ref`s (`#`, `#/$defs/...`) against the document root. */
export function resolveRef(schema: unknown, root: JsonObject, seen = new Set<string>()): JsonObject {
  if (schema === true || schema === undefined) return {};
  if (schema === false) return { not: {} };
  if (!isJsonObject(schema)) throw new Error(`not a JSON Schema: ${JSON.stringify(schema)}`);
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  if (seen.has(ref)) throw new Error(`$ref ${ref} refers to itself`);
  seen.add(ref);
  const { $ref: _ref, ...siblings } = schema;
  return { ...resolveRef(pointer(root, ref), root, seen), ...siblings };
}

function pointer(root: JsonObject, ref: string): unknown {
  if (!ref.startsWith('#')) throw new Error(`only local $refs are supported, not ${ref}`);
  const tokens = ref.slice(1).split('/').slice(1);
  let node: unknown = root;
  for (const token of tokens) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isJsonObject(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
    if (node === undefined) throw new Error(`$ref ${ref} points at nothing`);
  }
  return node;
}

export function shapeOf(raw: unknown, root: JsonObject): Shape {
  const schema = resolveRef(raw, root);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return unionShape(alternatives, root);
  if (isJsonObject(schema.not) && Object.keys(schema.not).length === 0) {
    return { schema, types: [], nullable: false };
  }
  const types = typesOf(schema);
  if (types === 'any' || !types.includes('null') || types.length === 1) {
    return { schema, types, nullable: false };
  }
  const nonNull = types.filter((type) => type !== 'null');
  return {
    schema: { ...schema, type: nonNull.length === 1 ? nonNull[0] : nonNull },
    types: nonNull,
    nullable: true,
  };
}

function unionShape(alternatives: readonly unknown[], root: JsonObject): Shape {
  let nullable = false;
  const variants: JsonObject[] = [];
  for (const alternative of alternatives) {
    const shape = shapeOf(alternative, root);
    nullable ||= shape.nullable;
    if (shape.types !== 'any' && shape.types.length === 1 && shape.types[0] === 'null') nullable = true;
    else if (shape.variants) variants.push(...shape.variants);
    else variants.push(shape.schema);
  }
  const [only] = variants;
  if (variants.length === 0) return { schema: { type: 'null' }, types: ['null'], nullable: false };
  if (variants.length === 1 && only) return { ...shapeOf(only, root), nullable };
  return { schema: { anyOf: variants }, types: 'any', nullable, variants };
}

function typesOf(schema: JsonObject): readonly string[] | 'any' {
  const { type } = schema;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return [...new Set(type.map(String))].sort();
  if ('const' in schema) return [jsonTypeOf(schema.const)];
  if (Array.isArray(schema.enum)) return [...new Set(schema.enum.map(jsonTypeOf))].sort();
  return 'any';
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** The values a schema is restricted to by `const` or `enum`, if any. */
export function allowedValues(schema: JsonObject): readonly unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

const ANNOTATIONS = new Set([
  'title',
  'description',
  'examples',
  'default',
  '$comment',
  'deprecated',
  '$id',
  '$schema',
]);

/** The schema without annotations, for comparing two schemas for sameness. */
export function withoutAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAnnotations);
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !ANNOTATIONS.has(key))
      .map(([key, item]) => [
        key,
        key === 'properties' ? propertiesWithoutAnnotations(item) : withoutAnnotations(item),
      ]),
  );
}

function propertiesWithoutAnnotations(properties: unknown): unknown {
  if (!isJsonObject(properties)) return properties;
  return Object.fromEntries(Object.entries(properties).map(([key, item]) => [key, withoutAnnotations(item)]));
}
