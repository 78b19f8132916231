import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from './platform.ts';

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
