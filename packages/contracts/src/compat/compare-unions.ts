import { isJsonObject, type JsonObject } from '../json.ts';
import type { Comparison } from './compare-schemas.ts';
import { allowedValues, resolveRef, shapeOf, type Shape } from './schema-shape.ts';

interface Variant {
  readonly key: string;
  readonly schema: JsonObject;
}

/**
 * Unions (`anyOf` / `oneOf`): variants are paired by their discriminator value
 * (a property that is a const in every variant, as in a zod discriminated
 * union), else by their JSON type, and compared pair by pair. A variant only
 * in the previous schema or only in the current one is reported.
 */
export function compareUnions(comparison: Comparison, previous: Shape, current: Shape, path: string): void {
  const before = previous.variants ?? [previous.schema];
  const after = current.variants ?? [current.schema];
  const discriminator = discriminatorOf(before, comparison.previousRoot, after, comparison.currentRoot);
  const oldVariants = keyed(before, comparison.previousRoot, discriminator);
  const newVariants = keyed(after, comparison.currentRoot, discriminator);
  for (const old of oldVariants) {
    const now = newVariants.find((variant) => variant.key === old.key);
    if (now) comparison.compare(old.schema, now.schema, `${path}<${old.key}>`);
    else {
      comparison.report({
        kind: 'variant-removed',
        path: `${path}<${old.key}>`,
        message: `union variant ${old.key} removed; events already in the stream may hold it`,
      });
    }
  }
  for (const now of newVariants.filter((variant) => !oldVariants.some((old) => old.key === variant.key))) {
    comparison.report({
      kind: 'variant-added',
      path: `${path}<${now.key}>`,
      message: `union variant ${now.key} added; consumers built with the previous schema reject it`,
    });
  }
}

function discriminatorOf(
  before: readonly JsonObject[],
  previousRoot: JsonObject,
  after: readonly JsonObject[],
  currentRoot: JsonObject,
): string | undefined {
  const candidates = (variants: readonly JsonObject[], root: JsonObject): Set<string> | undefined => {
    let common: Set<string> | undefined;
    for (const variant of variants) {
      const names = new Set(
        Object.keys(propertiesOf(variant)).filter((name) => constOf(variant, name, root) !== undefined),
      );
      common = common ? new Set([...common].filter((name) => names.has(name))) : names;
    }
    return common;
  };
  const old = candidates(before, previousRoot);
  const now = candidates(after, currentRoot);
  return [...(old ?? [])].filter((name) => now?.has(name)).sort()[0];
}

function keyed(
  variants: readonly JsonObject[],
  root: JsonObject,
  discriminator: string | undefined,
): Variant[] {
  const counts = new Map<string, number>();
  return variants.map((schema) => {
    const base =
      discriminator !== undefined
        ? `${discriminator}=${JSON.stringify(constOf(schema, discriminator, root))}`
        : typeKey(shapeOf(schema, root));
    const seen = counts.get(base) ?? 0;
    counts.set(base, seen + 1);
    return { key: seen === 0 ? base : `${base}#${seen + 1}`, schema };
  });
}

function typeKey(shape: Shape): string {
  return shape.types === 'any' ? 'any' : shape.types.join('|');
}

function propertiesOf(schema: JsonObject): JsonObject {
  return isJsonObject(schema.properties) ? schema.properties : {};
}

function constOf(schema: JsonObject, property: string, root: JsonObject): unknown {
  const values = allowedValues(resolveRef(propertiesOf(schema)[property], root));
  return values?.length === 1 ? values[0] : undefined;
}
