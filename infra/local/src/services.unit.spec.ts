import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ServiceConfigError,
  databaseName,
  discoverServices,
  gatewayEnv,
  gatewayRoutes,
  serviceEnv,
  type ServiceSpec,
} from './services.ts';

let servicesDir: string;
beforeEach(async () => {
  servicesDir = await mkdtemp(path.join(os.tmpdir(), 'local-unit-'));
});
afterEach(async () => {
  await rm(servicesDir, { recursive: true, force: true });
});

async function fixture(name: string, manifest: object, { server = true } = {}): Promise<void> {
  const dir = path.join(servicesDir, name);
  await mkdir(path.join(dir, 'src'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: `@tessera/${name}`, ...manifest }));
  if (server) await writeFile(path.join(dir, 'src', 'server.ts'), '');
}

const infra = {
  postgresUrl: 'postgres://postgres:postgres@127.0.0.1:54329/postgres',
  natsUrl: 'nats://127.0.0.1:4229',
  logLevel: 'debug',
};

describe('discoverServices', () => {
  it('finds nothing when there are no services', async () => {
    expect(await discoverServices(servicesDir)).toEqual([]);
    expect(await discoverServices(path.join(servicesDir, 'missing'))).toEqual([]);
  });

  it('lists folders whose package.json has a "tessera" field, by name', async () => {
    await fixture('tasks', { tessera: { port: 4002, routes: ['/api/v1/tasks'] } });
    await fixture('identity', { tessera: { port: 4001, routes: ['/auth', '/api/v1/users'] } });
    await fixture('shared-lib', {}, { server: false });
    await writeFile(path.join(servicesDir, 'README.md'), 'not a service');
    await mkdir(path.join(servicesDir, 'empty'));

    expect(await discoverServices(servicesDir)).toEqual([
      {
        name: 'identity',
        dir: path.join(servicesDir, 'identity'),
        port: 4001,
        routes: ['/auth', '/api/v1/users'],
      },
      { name: 'tasks', dir: path.join(servicesDir, 'tasks'), port: 4002, routes: ['/api/v1/tasks'] },
    ]);
  });

  it.each([
    ['a port out of range', { port: 70_000, routes: [] }, /"port" must be an integer/],
    ['routes that are not path prefixes', { port: 4001, routes: ['auth'] }, /"routes" must be an array/],
  ])('rejects %s', async (_case, tessera, message) => {
    await fixture('identity', { tessera });
    await expect(discoverServices(servicesDir)).rejects.toThrow(message);
  });

  it('rejects a declared service without src/server.ts', async () => {
    await fixture('ledger', { tessera: { port: 4005, routes: [] } }, { server: false });
    await expect(discoverServices(servicesDir)).rejects.toThrow(
      'services/ledger declares "tessera" but has no',
    );
  });

  it('rejects two services on one port or one route prefix', async () => {
    await fixture('identity', { tessera: { port: 4001, routes: ['/auth'] } });
    await fixture('tasks', { tessera: { port: 4001, routes: ['/tasks'] } });
    await expect(discoverServices(servicesDir)).rejects.toThrow(
      new ServiceConfigError('services identity and tasks both declare port 4001'),
    );
  });
});

describe('the environment of each process', () => {
  const identity: ServiceSpec = {
    name: 'identity',
    dir: '/x/identity',
    port: 4001,
    routes: ['/auth', '/api/v1/users'],
  };
  const payouts: ServiceSpec = {
    name: 'payout-rails',
    dir: '/x/payout-rails',
    port: 4006,
    routes: ['/api/v1/payouts'],
  };

  it('gives each service its own database, NATS, and the JWKS of identity', () => {
    expect(databaseName('payout-rails')).toBe('tessera_payout_rails');
    expect(serviceEnv(payouts, [identity, payouts], infra)).toEqual({
      SERVICE_NAME: 'payout-rails',
      PORT: '4006',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:54329/tessera_payout_rails',
      NATS_URL: 'nats://127.0.0.1:4229',
      JWKS_URL: 'http://127.0.0.1:4001/.well-known/jwks.json',
      NODE_ENV: 'development',
      LOG_LEVEL: 'debug',
    });
  });

  it('leaves JWKS_URL out when there is no identity service', () => {
    expect(serviceEnv(payouts, [payouts], infra)).not.toHaveProperty('JWKS_URL');
  });

  it('routes every prefix of every service through the gateway', () => {
    const routes = [
      { service: 'identity', prefix: '/auth', upstream: 'http://127.0.0.1:4001' },
      { service: 'identity', prefix: '/api/v1/users', upstream: 'http://127.0.0.1:4001' },
      { service: 'payout-rails', prefix: '/api/v1/payouts', upstream: 'http://127.0.0.1:4006' },
    ];
    expect(gatewayRoutes([identity, payouts])).toEqual(routes);
    const env = gatewayEnv([identity, payouts], { port: 8080, host: '127.0.0.1', logLevel: 'info' });
    expect(env).toMatchObject({ GATEWAY_PORT: '8080', GATEWAY_HOST: '127.0.0.1' });
    expect(JSON.parse(env.GATEWAY_ROUTES!)).toEqual(routes);
    expect(
      JSON.parse(gatewayEnv([], { port: 8080, host: '127.0.0.1', logLevel: 'info' }).GATEWAY_ROUTES!),
    ).toEqual([]);
    expect(env).not.toHaveProperty('GATEWAY_METRICS_PORT');
    // One machine is one address: locally the limit is ten times a deployment's, unless given.
    expect(env.GATEWAY_RATE_LIMIT_MAX).toBe('6000');
    expect(
      gatewayEnv([], { port: 8080, host: '127.0.0.1', logLevel: 'info', rateLimitMax: '600' })
        .GATEWAY_RATE_LIMIT_MAX,
    ).toBe('600');
    expect(
      gatewayEnv([], { port: 8080, host: '127.0.0.1', logLevel: 'info', metricsPort: 9464 })
        .GATEWAY_METRICS_PORT,
    ).toBe('9464');
  });
});
