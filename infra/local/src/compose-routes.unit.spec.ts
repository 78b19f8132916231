import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { discoverServices } from './services.ts';

// The production-like stack routes by docker-compose's GATEWAY_ROUTES; `npm start` by each service's
// "tessera" field. They must agree, or a route works locally and 404s in the stack.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** Served only outside production (the dev mailbox); the stack runs in production mode. */
const DEV_ONLY = new Set(['/dev']);

interface ComposeFile {
  services: Record<string, { environment?: Record<string, string> }>;
}

describe('docker-compose GATEWAY_ROUTES', () => {
  it("routes every prefix of every service's tessera field to that service, and nothing else to it", async () => {
    const compose = parse(await readFile(`${repoRoot}/docker-compose.yml`, 'utf8')) as ComposeFile;
    const raw = compose.services.gateway?.environment?.GATEWAY_ROUTES;
    expect(raw).toBeTypeOf('string');
    const routes = JSON.parse(raw ?? '[]') as { service: string; prefix: string; upstream: string }[];

    const services = await discoverServices(`${repoRoot}/services`);
    for (const service of services) {
      const inCompose = routes.filter((r) => r.service === service.name);
      expect(inCompose.map((r) => r.prefix).sort(), service.name).toEqual(
        service.routes.filter((prefix) => !DEV_ONLY.has(prefix)).sort(),
      );
      for (const route of inCompose) expect(route.upstream).toBe(`http://${service.name}:${service.port}`);
    }
  });
});
