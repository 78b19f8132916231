import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { eventDefinitions } from '../catalog.ts';
import { defineEvent } from '../define-event.ts';
import { toJsonSchema } from '../docs/json-schema.ts';
import { checkCatalog } from './check-catalog.ts';
import { readSnapshots, writeSnapshot } from './snapshot-store.ts';

const v1 = defineEvent('tests.thing.created.v1', {
  description: 'A thing was created.',
  data: z.object({ thing_id: z.string(), name: z.string().max(50) }),
});

function withData(data: z.ZodObject) {
  return defineEvent('tests.thing.created.v1', { description: 'A thing was created.', data });
}

describe('checkCatalog', () => {
  const snapshots = new Map([[v1.type, toJsonSchema(v1)]]);

  it('passes a type whose snapshot is its current schema', () => {
    expect(checkCatalog([v1], snapshots)).toEqual([
      { type: v1.type, status: 'unchanged', schema: toJsonSchema(v1) },
    ]);
  });

  it('reports a type without a snapshot as new', () => {
    expect(checkCatalog([v1], new Map())).toEqual([
      { type: v1.type, status: 'new', schema: toJsonSchema(v1) },
    ]);
  });

  it('reports a compatible change whose snapshot is not updated yet', () => {
    const added = withData(v1.data.extend({ colour: z.string().optional() }));
    expect(checkCatalog([added], snapshots)).toEqual([
      { type: v1.type, status: 'compatible-change', schema: toJsonSchema(added) },
    ]);
  });

  it('reports every incompatibility of a breaking change', () => {
    const broken = withData(z.object({ thing_id: z.int(), name: z.string().max(20) }));
    const [status] = checkCatalog([broken], snapshots);
    expect(status).toMatchObject({ type: v1.type, status: 'incompatible' });
    expect(
      status?.status === 'incompatible' && status.incompatibilities.map((i) => [i.kind, i.path]),
    ).toEqual([
      ['type-changed', '$.thing_id'],
      ['constraint-tightened', '$.name'],
    ]);
  });

  it('reports a snapshot whose type left the catalog', () => {
    expect(checkCatalog([], snapshots)).toEqual([{ type: v1.type, status: 'removed' }]);
  });
});

describe('snapshot files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-snapshots-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('read back what was written, by type', () => {
    writeSnapshot(v1.type, toJsonSchema(v1), dir);
    expect(readSnapshots(dir)).toEqual(new Map([[v1.type, toJsonSchema(v1)]]));
    expect(readSnapshots(join(dir, 'missing'))).toEqual(new Map());
  });
});

describe('the checked-in snapshots', () => {
  it('cover every catalogued event and match it (`pnpm contracts:check` passes)', () => {
    const statuses = checkCatalog(eventDefinitions, readSnapshots());
    expect(statuses.filter((status) => status.status !== 'unchanged')).toEqual([]);
    expect(statuses.map((status) => status.type)).toEqual(eventDefinitions.map((d) => d.type).sort());
  });
});
