import { isDeepStrictEqual } from 'node:util';
import { isJsonObject, type JsonObject, type JsonSchema } from '../json.ts';
import { compareArrays } from './compare-arrays.ts';
import { compareObjects } from './compare-objects.ts';
import { compareUnions } from './compare-unions.ts';
import { tightenedConstraints } from './constraints.ts';
import type { Incompatibility } from './incompatibility.ts';
import { allowedValues, shapeOf, type Shape } from './schema-shape.ts';

/** Shared by the comparison of one pair of documents. */
export interface Comparison {
  readonly previousRoot: JsonObject;
  readonly currentRoot: JsonObject;
  readonly report: (incompatibility: Incompatibility) => void;
  /** Compares two sub-schemas, each resolved against its own root. */
  readonly compare: (previous: unknown, current: unknown, path: string) => void;
}

/** Keywords this check does not reason about: any change to them is reported for a human to judge. */
const UNSUPPORTED = [
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'patternProperties',
  'contains',
  'minContains',
  'maxContains',
  'unevaluatedProperties',
  'unevaluatedItems',
] as const;

/**
 * What breaks when events valid under `previous` (the published snapshot) meet
 * `current` (the schema in the catalog now), and the other way round. Two kinds
 * of consumers must keep working: one still built with the previous schema
 * reading new events, and one built with the current schema replaying old
 * events from the stream.
 *
 * Reported: a field removed or renamed, a new required field, optional made
 * required or required made optional, a type changed, null allowed or
 * disallowed, enum values added or removed, a const changed, a union variant
 * added or removed, and any constraint tightened (a length, bound or item count
 * stricter, a format or pattern added or changed, an object closed). Accepted:
 * a new optional field in an open object, a constraint loosened, and changes
 * to annotations (title, description, default, examples).
 */
export function compareSchemas(previous: JsonSchema, current: JsonSchema): Incompatibility[] {
  const found: Incompatibility[] = [];
  const seenRefs = new Set<string>();
  const comparison: Comparison = {
    previousRoot: isJsonObject(previous) ? previous : {},
    currentRoot: isJsonObject(current) ? current : {},
    report: (incompatibility) => found.push(incompatibility),
    compare: (before, after, path) => {
      const refs = refPair(before, after);
      if (refs !== undefined) {
        if (seenRefs.has(refs)) return; // a recursive schema: this pair is already being compared
        seenRefs.add(refs);
      }
      compareShapes(
        comparison,
        shapeOf(before, comparison.previousRoot),
        shapeOf(after, comparison.currentRoot),
        path,
      );
    },
  };
  comparison.compare(previous, current, '$');
  return found;
}

function refPair(previous: unknown, current: unknown): string | undefined {
  const before = isJsonObject(previous) ? previous.$ref : undefined;
  const after = isJsonObject(current) ? current.$ref : undefined;
  return typeof before === 'string' || typeof after === 'string'
    ? `${String(before)} ${String(after)}`
    : undefined;
}

function compareShapes(comparison: Comparison, previous: Shape, current: Shape, path: string): void {
  const { report } = comparison;
  if (previous.nullable && !current.nullable) {
    report({
      kind: 'made-non-nullable',
      path,
      message: 'null is no longer allowed; events already in the stream may hold null',
    });
  }
  if (!previous.nullable && current.nullable) {
    report({
      kind: 'made-nullable',
      path,
      message: 'null is now allowed; consumers built with the previous schema reject it',
    });
  }
  if (previous.variants || current.variants) {
    compareUnions(comparison, previous, current, path);
    return;
  }
  if (!isDeepStrictEqual(previous.types, current.types)) {
    report({
      kind: 'type-changed',
      path,
      message: `type changed from ${typeName(previous.types)} to ${typeName(current.types)}`,
    });
    return;
  }
  compareValues(comparison, previous.schema, current.schema, path);
  for (const message of tightenedConstraints(previous.schema, current.schema)) {
    report({ kind: 'constraint-tightened', path, message });
  }
  const types = current.types;
  if (types === 'any' || types.includes('object'))
    compareObjects(comparison, previous.schema, current.schema, path);
  if (types === 'any' || types.includes('array'))
    compareArrays(comparison, previous.schema, current.schema, path);
  for (const keyword of UNSUPPORTED) {
    if (!isDeepStrictEqual(previous.schema[keyword], current.schema[keyword])) {
      report({
        kind: 'unsupported-change',
        path,
        message: `"${keyword}" changed, which this check cannot judge: review it by hand`,
      });
    }
  }
}

function typeName(types: Shape['types']): string {
  if (types === 'any') return 'any JSON value';
  return types.length === 0 ? 'nothing (false)' : types.join(' | ');
}

function compareValues(
  comparison: Comparison,
  previous: JsonObject,
  current: JsonObject,
  path: string,
): void {
  const before = allowedValues(previous);
  const after = allowedValues(current);
  const show = (values: readonly unknown[]): string =>
    values.map((value) => JSON.stringify(value)).join(', ');
  if (before && after) {
    if ('const' in previous && 'const' in current) {
      if (!isDeepStrictEqual(previous.const, current.const)) {
        comparison.report({
          kind: 'const-changed',
          path,
          message: `const changed from ${show(before)} to ${show(after)}`,
        });
      }
      return;
    }
    const added = after.filter((value) => !before.some((old) => isDeepStrictEqual(old, value)));
    const removed = before.filter((value) => !after.some((now) => isDeepStrictEqual(now, value)));
    if (added.length > 0) {
      comparison.report({
        kind: 'enum-values-added',
        path,
        message: `values ${show(added)} added; consumers built with the previous schema reject them`,
      });
    }
    if (removed.length > 0) {
      comparison.report({
        kind: 'enum-values-removed',
        path,
        message: `values ${show(removed)} removed; events already in the stream may hold them`,
      });
    }
  } else if (before) {
    comparison.report({
      kind: 'const' in previous ? 'const-changed' : 'enum-values-added',
      path,
      message: `no longer restricted to ${show(before)}; consumers built with the previous schema reject other values`,
    });
  } else if (after) {
    comparison.report({
      kind: 'constraint-tightened',
      path,
      message: `now restricted to ${show(after)}; events already in the stream may hold other values`,
    });
  }
}
