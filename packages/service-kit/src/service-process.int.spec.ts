import { findFreePort } from '@tessera/devstack';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceConfig } from './config.ts';
import { launchServiceProcess, testServiceConfig, waitFor } from './testing/index.ts';

const entry = fileURLToPath(new URL('./__fixtures__/diagnostics-server.ts', import.meta.url));
let config: ServiceConfig;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ config, drop } = await testServiceConfig('diagnostics'));
});

afterAll(() => drop?.());

describe('a service process (runService)', () => {
  it('starts, becomes ready, and stops cleanly with exit 0 on SIGTERM', async () => {
    const port = await findFreePort();
    const { child, output, exited } = launchServiceProcess(entry, {
      ...config,
      PORT: port,
      LOG_LEVEL: 'info',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        () =>
          fetch(`${base}/readyz`).then(
            (r) => r.ok,
            () => false,
          ),
        {
          timeoutMs: 30_000,
          what: `the service to be ready:\n${output()}`,
        },
      );
      // Without JWKS_URL the service fails closed: authenticated routes refuse, never admit.
      const refused = await fetch(`${base}/api/v1/probes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'p' }),
      });
      expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([
        503,
        'AUTH_NOT_CONFIGURED',
      ]);

      child.kill('SIGTERM');
      expect(await exited()).toBe(0);
      expect(output()).toContain('shutting down');
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses to start with bad configuration, naming the variable', async () => {
    const { output, exited } = launchServiceProcess(entry, { ...config, PORT: 'eighty' });
    expect(await exited()).toBe(1);
    expect(output()).toMatch(/diagnostics: Invalid configuration:\n\s+PORT: /);
    expect(output()).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });
});
