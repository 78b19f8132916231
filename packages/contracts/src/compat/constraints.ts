import type { JsonObject } from '../json.ts';

/**
 * Constraints on a value (lengths, bounds, patterns, formats) that the current
 * schema makes stricter than the previous one: each such change can reject an
 * event already in the stream. Loosening one is accepted.
 */
export function tightenedConstraints(previous: JsonObject, current: JsonObject): string[] {
  return [
    ...lowerLimit(previous, current, 'minLength'),
    ...lowerLimit(previous, current, 'minItems'),
    ...lowerLimit(previous, current, 'minProperties'),
    ...upperLimit(previous, current, 'maxLength'),
    ...upperLimit(previous, current, 'maxItems'),
    ...upperLimit(previous, current, 'maxProperties'),
    ...lowerBound(previous, current),
    ...upperBound(previous, current),
    ...multipleOf(previous, current),
    ...format(previous, current),
    ...pattern(previous, current),
    ...(current.uniqueItems === true && previous.uniqueItems !== true ? ['items must now be unique'] : []),
  ];
}

function numberAt(schema: JsonObject, keyword: string): number | undefined {
  const value = schema[keyword];
  return typeof value === 'number' ? value : undefined;
}

function lowerLimit(previous: JsonObject, current: JsonObject, keyword: string): string[] {
  const before = numberAt(previous, keyword) ?? 0;
  const after = numberAt(current, keyword) ?? 0;
  return after > before ? [`${keyword} raised from ${before} to ${after}`] : [];
}

function upperLimit(previous: JsonObject, current: JsonObject, keyword: string): string[] {
  const before = numberAt(previous, keyword);
  const after = numberAt(current, keyword);
  if (after === undefined || (before !== undefined && after >= before)) return [];
  return [
    before === undefined ? `${keyword} ${after} added` : `${keyword} lowered from ${before} to ${after}`,
  ];
}

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

/** The stricter of `minimum` and `exclusiveMinimum` (or maximum), as zod 4 may write both. */
function bound(schema: JsonObject, side: 'min' | 'max'): Bound | undefined {
  const inclusive = numberAt(schema, side === 'min' ? 'minimum' : 'maximum');
  const exclusive = numberAt(schema, side === 'min' ? 'exclusiveMinimum' : 'exclusiveMaximum');
  const candidates: Bound[] = [
    ...(inclusive === undefined ? [] : [{ value: inclusive, exclusive: false }]),
    ...(exclusive === undefined ? [] : [{ value: exclusive, exclusive: true }]),
  ];
  const stricter = (a: Bound, b: Bound): Bound =>
    a.value === b.value ? (a.exclusive ? a : b) : (side === 'min') === a.value > b.value ? a : b;
  return candidates.reduce<Bound | undefined>(
    (best, next) => (best ? stricter(best, next) : next),
    undefined,
  );
}

function describe(b: Bound, side: 'min' | 'max'): string {
  return `${side === 'min' ? (b.exclusive ? '>' : '>=') : b.exclusive ? '<' : '<='} ${b.value}`;
}

function tighter(before: Bound | undefined, after: Bound | undefined, side: 'min' | 'max'): boolean {
  if (!after) return false;
  if (!before) return true;
  if (after.value !== before.value)
    return side === 'min' ? after.value > before.value : after.value < before.value;
  return after.exclusive && !before.exclusive;
}

function lowerBound(previous: JsonObject, current: JsonObject): string[] {
  const before = bound(previous, 'min');
  const after = bound(current, 'min');
  if (!tighter(before, after, 'min') || !after) return [];
  return [
    before
      ? `lower bound raised from ${describe(before, 'min')} to ${describe(after, 'min')}`
      : `lower bound ${describe(after, 'min')} added`,
  ];
}

function upperBound(previous: JsonObject, current: JsonObject): string[] {
  const before = bound(previous, 'max');
  const after = bound(current, 'max');
  if (!tighter(before, after, 'max') || !after) return [];
  return [
    before
      ? `upper bound lowered from ${describe(before, 'max')} to ${describe(after, 'max')}`
      : `upper bound ${describe(after, 'max')} added`,
  ];
}

/** Multiples of `after` include every multiple of `before` only if `before` is a multiple of `after`. */
function multipleOf(previous: JsonObject, current: JsonObject): string[] {
  const before = numberAt(previous, 'multipleOf');
  const after = numberAt(current, 'multipleOf');
  if (after === undefined) return [];
  if (before === undefined) return [`multipleOf ${after} added`];
  const ratio = before / after;
  return Math.abs(ratio - Math.round(ratio)) < 1e-9 ? [] : [`multipleOf changed from ${before} to ${after}`];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function format(previous: JsonObject, current: JsonObject): string[] {
  const { format: before } = previous;
  const { format: after } = current;
  if (after === undefined || after === before) return [];
  return [
    before === undefined
      ? `format "${text(after)}" added`
      : `format changed from "${text(before)}" to "${text(after)}"`,
  ];
}

/** Two regular expressions cannot be compared, so any new or changed pattern counts as tightening. */
function pattern(previous: JsonObject, current: JsonObject): string[] {
  const { pattern: before } = previous;
  const { pattern: after } = current;
  if (after === undefined || after === before) return [];
  if (previous.format !== current.format && current.format !== undefined) return []; // reported as a format change
  return [
    before === undefined
      ? `pattern /${text(after)}/ added`
      : `pattern changed from /${text(before)}/ to /${text(after)}/ (patterns cannot be compared, so any change counts)`,
  ];
}
