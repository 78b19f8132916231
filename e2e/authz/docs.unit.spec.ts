import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, renderMatrix } from './docs.ts';
import { MATRIX } from './matrix.ts';
import { routeKey, ROLES } from './outcomes.ts';
import { REQUESTS } from './requests.ts';

describe('docs/authz-matrix.md', () => {
  it('is what `pnpm authz:docs` writes from e2e/authz/matrix.ts', () => {
    expect(readFileSync(DOC_PATH, 'utf8'), 'run `pnpm authz:docs` and commit docs/authz-matrix.md').toBe(
      renderMatrix(),
    );
  });

  it('names each route once, with a cell for every caller', () => {
    const keys = MATRIX.map(routeKey);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
    for (const row of MATRIX) expect(Object.keys(row.cells).sort(), routeKey(row)).toEqual([...ROLES].sort());
  });

  it('has a request for every row, and no request without its row', () => {
    const rows = MATRIX.map(routeKey);
    expect(rows.filter((key) => !REQUESTS[key])).toEqual([]);
    expect(Object.keys(REQUESTS).filter((key) => !rows.includes(key))).toEqual([]);
  });

  it('keeps a known defect distinct from what the cell should answer', () => {
    for (const row of MATRIX) {
      for (const [role, defect] of Object.entries(row.defects ?? {})) {
        expect(defect.actual, `${routeKey(row)} as ${role}`).not.toBe(
          row.cells[role as keyof typeof row.cells],
        );
      }
    }
  });
});
