import { isJsonObject, type JsonObject } from '../json.ts';
import type { Comparison } from './compare-schemas.ts';

/** Items of an array (`[*]`) and of a tuple (`[0]`, `[1]`, ...); lengths are constraints. */
export function compareArrays(
  comparison: Comparison,
  previous: JsonObject,
  current: JsonObject,
  path: string,
): void {
  const before = itemsOf(previous);
  const after = itemsOf(current);
  const length = Math.max(before.prefix.length, after.prefix.length);
  for (let index = 0; index < length; index++) {
    const old = index < before.prefix.length ? before.prefix[index] : before.rest;
    const now = index < after.prefix.length ? after.prefix[index] : after.rest;
    if (old !== false && now !== false) comparison.compare(old, now, `${path}[${index}]`);
  }
  if (
    before.rest !== false &&
    after.rest !== false &&
    (before.rest !== undefined || after.rest !== undefined)
  ) {
    comparison.compare(before.rest, after.rest, `${path}[*]`);
  }
}

/** Draft 2020-12 (`prefixItems` + `items`) and draft-07 (`items` array + `additionalItems`). */
function itemsOf(schema: JsonObject): { prefix: readonly unknown[]; rest: unknown } {
  if (Array.isArray(schema.prefixItems)) return { prefix: schema.prefixItems, rest: schema.items };
  if (Array.isArray(schema.items)) return { prefix: schema.items, rest: schema.additionalItems };
  return {
    prefix: [],
    rest: isJsonObject(schema.items) || typeof schema.items === 'boolean' ? schema.items : undefined,
  };
}
