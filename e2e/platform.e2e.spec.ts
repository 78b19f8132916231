import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../infra/gateway/src/openapi-merge.ts';
import { bestPrefix } from '../infra/gateway/src/paths.ts';
import { type Platform, startPlatform } from './platform.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform();
});

afterAll(async () => {
  await platform?.stop();
});

describe('the local platform (npm start)', () => {
  it('answers health through the gateway', async () => {
    const response = await fetch(`${platform.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it("serves the gateway's metrics on their own port, never on the public one", async () => {
    // The runner says where once it saw the gateway healthy, a moment after we did.
    let url: string | undefined;
    for (let i = 0; i < 100 && !url; i++) {
      url = /gateway metrics: (http:\/\/\S+\/metrics)/.exec(platform.output())?.[1];
      if (!url) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(url, platform.output()).toBeDefined();
    await fetch(`${platform.baseUrl}/healthz`);
    const text = await (await fetch(url!)).text();
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/healthz"/);
    expect((await fetch(`${platform.baseUrl}/metrics`)).status).toBe(404);
  });

  it('serves the merged OpenAPI document and a browsable UI', async () => {
    const doc = (await (await fetch(`${platform.baseUrl}/docs/json`)).json()) as {
      openapi: string;
      paths: object;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths).toBeTypeOf('object');
    const ui = await fetch(`${platform.baseUrl}/docs`, { redirect: 'follow' });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });

  it('documents an operation under every prefix the gateway forwards, for every service', async () => {
    const doc = (await (await fetch(`${platform.baseUrl}/docs/json`)).json()) as OpenApiDocument;
    expect(doc['x-unavailable-services']).toEqual([]);
    const routes = doc['x-services'].flatMap((s) =>
      s.prefixes.map((prefix) => ({ service: s.name, prefix })),
    );
    const documented = new Set(
      Object.entries(doc.paths)
        .filter(([, item]) => METHODS.some((m) => (item as Record<string, unknown>)[m] !== undefined))
        .map(([path]) => bestPrefix(path, routes)?.prefix),
    );
    const undocumented = routes
      .filter((r) => !documented.has(r.prefix))
      .map((r) => `${r.prefix} (${r.service})`);
    expect(undocumented).toEqual([]);
    expect(doc['x-undocumented-prefixes']).toBeUndefined();
    // The ledger's routes nested under identity's and tasks' prefixes.
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/companies/{id}/credits',
        '/api/v1/companies/{id}/topups',
        '/api/v1/campaigns/{id}/budget',
      ]),
    );
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const response = await fetch(`${platform.baseUrl}/api/v1/nothing-here`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(((await response.json()) as { code: string }).code).toBe('NOT_FOUND');
  });

  it('stops cleanly on Ctrl-C', async () => {
    expect(await platform.stop()).toBe(0);
  });
});
