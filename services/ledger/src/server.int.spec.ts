import { fileURLToPath } from 'node:url';
import { findFreePort } from '@tessera/devstack';
import { type ServiceConfig } from '@tessera/service-kit';
import { launchServiceProcess, testServiceConfig, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./server.ts', import.meta.url));
let config: ServiceConfig;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ config, drop } = await testServiceConfig('ledger'));
});

afterAll(() => drop?.());

describe('the ledger process', () => {
  it('starts with the local runner environment, becomes ready, and stops cleanly on SIGTERM', async () => {
    const port = await findFreePort();
    const { child, output, exited } = launchServiceProcess(entry, {
      SERVICE_NAME: 'ledger',
      NODE_ENV: 'test',
      PORT: port,
      HOST: '127.0.0.1',
      DATABASE_URL: config.DATABASE_URL,
      NATS_URL: config.NATS_URL,
      NATS_PREFIX: config.NATS_PREFIX,
      JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
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
        { timeoutMs: 30_000, what: `the ledger to be ready:\n${output()}` },
      );
      const summary = await fetch(`${base}/api/v1/admin/ledger/summary`);
      expect(summary.status).toBe(401);
      child.kill('SIGTERM');
      expect(await exited()).toBe(0);
      expect(output()).toContain('shutting down');
      expect(output()).not.toMatch(/"level":(50|60)/); // no error or fatal logged
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it.each([
    [{ PLATFORM_FEE_BPS: '12.5' }, /PLATFORM_FEE_BPS: /],
    [{ LEDGER_EVENT_STORE: 'kurrentdb' }, /KURRENTDB_URL: is required when LEDGER_EVENT_STORE=kurrentdb/],
  ])('refuses to start with bad configuration (%o), naming the variable', async (env, message) => {
    const { output, exited } = launchServiceProcess(entry, { ...config, PORT: 1, ...env });
    expect(await exited()).toBe(1);
    expect(output()).toMatch(/ledger: Invalid configuration:/);
    expect(output()).toMatch(message);
    expect(output()).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
