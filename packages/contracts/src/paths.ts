import { fileURLToPath } from 'node:url';

/** Folders of this package, for its scripts and the tests that check their output. */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
export const GENERATED_DIR = fileURLToPath(new URL('../generated/', import.meta.url));
export const SNAPSHOTS_DIR = fileURLToPath(new URL('../snapshots/', import.meta.url));
