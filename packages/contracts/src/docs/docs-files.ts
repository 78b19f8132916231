import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { eventDefinitions } from '../catalog.ts';
import { GENERATED_DIR, PACKAGE_DIR } from '../paths.ts';
import { renderDocs, type GeneratedFile } from './render-docs.ts';

export interface DocsDrift {
  /** Files the generator produces that are not on disk. */
  readonly missing: string[];
  /** Files on disk whose content differs from what the generator produces. */
  readonly outdated: string[];
  /** Files on disk that the generator no longer produces. */
  readonly extra: string[];
}

export function contractsVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The docs of the current catalog, rendered in memory. */
export function currentDocs(): GeneratedFile[] {
  return renderDocs(eventDefinitions, contractsVersion());
}

/** How the files under `dir` differ from `files`; all empty when they are up to date. */
export function docsDrift(files: readonly GeneratedFile[], dir = GENERATED_DIR): DocsDrift {
  const expected = new Set(files.map((file) => file.path));
  const onDisk = listFiles(dir);
  return {
    missing: files.filter((file) => !onDisk.includes(file.path)).map((file) => file.path),
    outdated: files
      .filter(
        (file) => onDisk.includes(file.path) && readFileSync(join(dir, file.path), 'utf8') !== file.content,
      )
      .map((file) => file.path),
    extra: onDisk.filter((path) => !expected.has(path)),
  };
}

/** Writes `files` under `dir` and deletes whatever else is there. Returns the paths it changed. */
export function writeDocs(files: readonly GeneratedFile[], dir = GENERATED_DIR): string[] {
  const drift = docsDrift(files, dir);
  for (const path of drift.extra) rmSync(join(dir, path));
  for (const file of files.filter((f) => drift.missing.includes(f.path) || drift.outdated.includes(f.path))) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.content);
  }
  return [...drift.missing, ...drift.outdated, ...drift.extra].sort();
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}
