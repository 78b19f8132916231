import { isDeepStrictEqual } from 'node:util';
import { isJsonObject, type JsonObject } from '../json.ts';
import type { Comparison } from './compare-schemas.ts';
import { fieldPath } from './incompatibility.ts';
import { withoutAnnotations } from './schema-shape.ts';

/**
 * Fields of an object: removed, renamed (removed + added with the same schema),
 * added (required, or into a closed object), made required or optional, and the
 * schemas of the fields both versions have. A field is listed in `properties`,
 * or only in `required` (a record with enum keys).
 */
export function compareObjects(
  comparison: Comparison,
  previous: JsonObject,
  current: JsonObject,
  path: string,
): void {
  const { report } = comparison;
  const before = fieldsOf(previous);
  const after = fieldsOf(current);
  const removed = [...before.names].filter((name) => !after.names.has(name));
  const added = [...after.names].filter((name) => !before.names.has(name));

  const renamed = new Map<string, string>();
  for (const oldName of removed) {
    const newName = added.find(
      (name) =>
        ![...renamed.values()].includes(name) &&
        before.properties[oldName] !== undefined &&
        isDeepStrictEqual(
          withoutAnnotations(before.properties[oldName]),
          withoutAnnotations(after.properties[name]),
        ),
    );
    if (newName !== undefined) renamed.set(oldName, newName);
  }

  for (const name of removed) {
    const newName = renamed.get(name);
    report(
      newName !== undefined
        ? {
            kind: 'field-renamed',
            path: fieldPath(path, name),
            message: `field "${name}" renamed to "${newName}" (removed, and a field with its schema added); consumers built with the previous schema look for "${name}"`,
          }
        : {
            kind: 'field-removed',
            path: fieldPath(path, name),
            message: `${before.required.has(name) ? 'required' : 'optional'} field "${name}" removed; consumers built with the previous schema may read it`,
          },
    );
  }
  for (const name of added.filter((n) => ![...renamed.values()].includes(n))) {
    if (after.required.has(name)) {
      report({
        kind: 'required-field-added',
        path: fieldPath(path, name),
        message: `new required field "${name}"; events already in the stream lack it`,
      });
    } else if (previous.additionalProperties === false) {
      report({
        kind: 'field-added-to-closed-object',
        path: fieldPath(path, name),
        message: `optional field "${name}" added to an object that rejected unknown fields; consumers built with the previous schema reject it`,
      });
    }
  }
  for (const name of [...before.names].filter((n) => after.names.has(n))) {
    const wasRequired = before.required.has(name);
    const isRequired = after.required.has(name);
    if (!wasRequired && isRequired) {
      report({
        kind: 'made-required',
        path: fieldPath(path, name),
        message: `optional field "${name}" made required; events already in the stream may lack it`,
      });
    }
    if (wasRequired && !isRequired) {
      report({
        kind: 'made-optional',
        path: fieldPath(path, name),
        message: `required field "${name}" made optional; consumers built with the previous schema reject events without it`,
      });
    }
    if (before.properties[name] !== undefined && after.properties[name] !== undefined) {
      comparison.compare(before.properties[name], after.properties[name], fieldPath(path, name));
    }
  }
  compareAdditionalProperties(comparison, previous, current, path);
  if (previous.propertyNames !== undefined || current.propertyNames !== undefined) {
    comparison.compare(previous.propertyNames, current.propertyNames, `${path}[key]`);
  }
}

function fieldsOf(schema: JsonObject): { names: Set<string>; required: Set<string>; properties: JsonObject } {
  const properties = isJsonObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return { names: new Set([...Object.keys(properties), ...required]), required, properties };
}

/** `additionalProperties`: absent for a zod object (extra fields are stripped), false for a strict one, a schema for a record. */
function compareAdditionalProperties(
  comparison: Comparison,
  previous: JsonObject,
  current: JsonObject,
  path: string,
): void {
  const before = previous.additionalProperties;
  const after = current.additionalProperties;
  if (after === false && before !== false) {
    comparison.report({
      kind: 'constraint-tightened',
      path,
      message: 'object closed: fields not in the schema are now rejected',
    });
  } else if (before === false && after !== false) {
    comparison.report({
      kind: 'field-added-to-closed-object',
      path,
      message:
        'object opened to fields not in the schema; consumers built with the previous schema reject them',
    });
  } else if (isJsonObject(before) || isJsonObject(after)) {
    comparison.compare(before, after, `${path}.*`);
  }
}
