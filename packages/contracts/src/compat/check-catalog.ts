import { isDeepStrictEqual } from 'node:util';
import type { EventDefinition } from '../define-event.ts';
import { toJsonSchema } from '../docs/json-schema.ts';
import type { JsonObject } from '../json.ts';
import { compareSchemas } from './compare-schemas.ts';
import type { Incompatibility } from './incompatibility.ts';

/** Where one event type stands against its checked-in snapshot. */
export type SnapshotStatus =
  | { readonly type: string; readonly status: 'unchanged'; readonly schema: JsonObject }
  /** Compatible with its snapshot but different (say, a new optional field): the snapshot must be updated. */
  | { readonly type: string; readonly status: 'compatible-change'; readonly schema: JsonObject }
  | {
      readonly type: string;
      readonly status: 'incompatible';
      readonly schema: JsonObject;
      readonly incompatibilities: Incompatibility[];
    }
  /** Catalogued, never snapshotted. */
  | { readonly type: string; readonly status: 'new'; readonly schema: JsonObject }
  /** Snapshotted, but no longer in the catalog. */
  | { readonly type: string; readonly status: 'removed' };

/** Compares every catalogued event with its snapshot, and every snapshot with the catalog. Sorted by type. */
export function checkCatalog(
  definitions: readonly EventDefinition[],
  snapshots: ReadonlyMap<string, JsonObject>,
): SnapshotStatus[] {
  const catalogued: SnapshotStatus[] = definitions.map((definition) => {
    const schema = toJsonSchema(definition);
    const snapshot = snapshots.get(definition.type);
    if (!snapshot) return { type: definition.type, status: 'new', schema };
    if (isDeepStrictEqual(snapshot, schema)) return { type: definition.type, status: 'unchanged', schema };
    const incompatibilities = compareSchemas(snapshot, schema);
    return incompatibilities.length > 0
      ? { type: definition.type, status: 'incompatible', schema, incompatibilities }
      : { type: definition.type, status: 'compatible-change', schema };
  });
  const types = new Set<string>(definitions.map((definition) => definition.type));
  const removed: SnapshotStatus[] = [...snapshots.keys()]
    .filter((type) => !types.has(type))
    .map((type) => ({ type, status: 'removed' }));
  return [...catalogued, ...removed].sort((a, b) => a.type.localeCompare(b.type));
}
