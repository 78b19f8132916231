import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayClient } from '../client.ts';
import { ask, pool } from './ask.ts';
import { MATRIX } from './matrix.ts';
import { classOf, type Outcome, type Row, routeKey } from './outcomes.ts';
import { DISPOSABLE, LAST, REQUESTS } from './requests.ts';
import { authzFixture, type Fixture, type Role, ROLES } from './roles.ts';
import { type Platform, sharedPlatform } from '../platform.ts';

// The authorization matrix (e2e/authz/matrix.ts, written out as docs/authz-matrix.md): every route
// of the gateway's merged OpenAPI document asked as each of eleven callers through the real gateway
// and services, each answer checked against the class the matrix writes down. A route without its
// row, or a row without its route, fails.

let platform: Platform;
const client = gatewayClient(() => platform);
let fixture: Fixture;
let documented: string[];

beforeAll(async () => {
  platform = await sharedPlatform();
  for (const path of [
    '/api/v1/users/me',
    '/api/v1/campaigns',
    '/api/v1/wallet',
    '/api/v1/submissions/me',
    '/api/v1/withdrawals/me',
    '/api/v1/notifications',
    '/api/v1/reviews/me/stats',
  ]) {
    await client.waitFor(`${path} did not answer through the gateway`, 60_000, async () =>
      (await fetch(`${platform.baseUrl}${path}`)).status === 401 ? true : undefined,
    );
  }
  const doc = (await (await fetch(`${platform.baseUrl}/docs/json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
  fixture = await authzFixture(client, () => platform.baseUrl);
}, 300_000);

/** Reads first, then changes, then deletions, then what ends its caller, logging out last. */
function phaseOf(row: Row): number {
  const key = routeKey(row);
  if (key === 'POST /auth/logout') return 4;
  if (LAST.has(key)) return 3;
  if (row.method === 'GET') return 0;
  return row.method === 'DELETE' ? 2 : 1;
}

describe('the authorization matrix', () => {
  it('has a row for every route the gateway documents, and no row for a route it does not', () => {
    const rows = new Set(MATRIX.map(routeKey));
    const withoutRow = documented.filter((key) => !rows.has(key));
    const withoutRoute = [...rows].filter((key) => !documented.includes(key));
    expect(withoutRow, 'routes without a row in e2e/authz/matrix.ts').toEqual([]);
    expect(withoutRoute, 'rows in e2e/authz/matrix.ts whose route is gone').toEqual([]);
    const withoutRequest = MATRIX.map(routeKey).filter((key) => !REQUESTS[key]);
    expect(withoutRequest, 'rows without a request in e2e/authz/requests.ts').toEqual([]);
  });

  it('answers every cell as the matrix says', { timeout: 420_000 }, async () => {
    const mismatches: string[] = [];
    let asked = 0;
    for (const phase of [0, 1, 2, 3, 4]) {
      const cells = MATRIX.filter((row) => phaseOf(row) === phase && REQUESTS[routeKey(row)]).flatMap((row) =>
        ROLES.filter((role) => !row.unchecked?.[role]).map((role) => ({ row, role })),
      );
      await pool(
        phase >= 3 ? 3 : 6,
        cells.map(
          ({ row, role }) =>
            () =>
              check(row, role),
        ),
      );
    }

    async function check(row: Row, role: Role): Promise<void> {
      const key = routeKey(row);
      const request = REQUESTS[key]!(fixture);
      const token = DISPOSABLE.has(key) ? await fixture.disposable(role) : fixture.tokens[role];
      const answer = await ask(platform.baseUrl, row.method, request, token);
      asked++;
      const defect = row.defects?.[role];
      const expected: Outcome = defect?.actual ?? row.cells[role];
      const got = classOf(answer.status, answer.code, expected);
      if (got !== expected) {
        mismatches.push(
          `${key} as ${role}: expected ${expected}${defect ? ' (the known defect)' : ''}, got ${answer.status} ${answer.code ?? ''}`,
        );
      }
    }

    expect(asked).toBeGreaterThan(0);
    expect(mismatches.sort(), `${mismatches.length} of ${asked} cells`).toEqual([]);
  });
});
