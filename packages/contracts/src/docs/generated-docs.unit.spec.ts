import { describe, expect, it } from 'vitest';
import { eventDefinitions } from '../catalog.ts';
import { currentDocs, docsDrift } from './docs-files.ts';

describe('the checked-in generated docs', () => {
  it('are what `pnpm contracts:docs` generates from the catalog now (run it and commit generated/ if not)', () => {
    expect(docsDrift(currentDocs())).toEqual({ missing: [], outdated: [], extra: [] });
  });

  it('hold a JSON Schema per catalogued event, the envelope and the AsyncAPI document', () => {
    expect(currentDocs().map((file) => file.path)).toEqual([
      'asyncapi.yaml',
      'jsonschema/envelope.json',
      ...eventDefinitions.map((definition) => `jsonschema/${definition.type}.json`),
    ]);
  });
});
