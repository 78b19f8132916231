import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isJsonObject, toJsonText, type JsonObject } from '../json.ts';
import { SNAPSHOTS_DIR } from '../paths.ts';

/** `snapshots/<type>.json`: the JSON Schema of the data of every published event type. */
export function readSnapshots(dir = SNAPSHOTS_DIR): Map<string, JsonObject> {
  const snapshots = new Map<string, JsonObject>();
  if (!existsSync(dir)) return snapshots;
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    const schema: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if (!isJsonObject(schema)) throw new Error(`${join(dir, file)} is not a JSON Schema object`);
    snapshots.set(file.slice(0, -'.json'.length), schema);
  }
  return snapshots;
}

export function snapshotFile(type: string, dir = SNAPSHOTS_DIR): string {
  return join(dir, `${type}.json`);
}

export function writeSnapshot(type: string, schema: JsonObject, dir = SNAPSHOTS_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(snapshotFile(type, dir), toJsonText(schema));
}
