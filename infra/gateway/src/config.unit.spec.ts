import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, serviceTargets } from './config.ts';

const routes = (value: unknown) => ({ GATEWAY_ROUTES: JSON.stringify(value) });
/** NODE_ENV has no default: every case names one. */
const load = (env: NodeJS.ProcessEnv) => loadConfig({ NODE_ENV: 'test', ...env });

describe('loadConfig', () => {
  it('applies defaults', () => {
    expect(load({})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      routes: [],
      rateLimit: { max: 600, timeWindowMs: 60_000 },
      corsOrigins: '*',
      trustProxy: false,
      upstreamTimeoutMs: 30_000,
      bodyLimit: 1_048_576,
      uploads: { paths: ['/api/v1/media', '/api/v1/submissions/*/media'], bodyLimit: 52_428_800 },
      probeTimeoutMs: 2_000,
      docsCacheMs: 5_000,
      logLevel: 'info',
      nodeEnv: 'test',
    });
  });

  it('requires NODE_ENV, so that a forgotten one never starts as development', () => {
    expect(() => loadConfig({})).toThrow(/NODE_ENV: is required/);
    expect(() => loadConfig({ NODE_ENV: ' ' })).toThrow(/NODE_ENV: is required/);
    expect(loadConfig({ NODE_ENV: 'development' }).nodeEnv).toBe('development');
  });

  it('refuses GATEWAY_TRUST_PROXY=true: trusting every hop lets a client choose its address', () => {
    expect(() => load({ GATEWAY_TRUST_PROXY: 'true' })).toThrow(
      /GATEWAY_TRUST_PROXY: true would let any client/,
    );
    expect(load({ GATEWAY_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(load({ GATEWAY_TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
    expect(load({ GATEWAY_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('parses every variable', () => {
    const config = load({
      GATEWAY_PORT: '9000',
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_RATE_LIMIT_MAX: '5',
      GATEWAY_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      GATEWAY_TRUST_PROXY: '1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...routes([{ service: 'identity', prefix: '/auth', upstream: 'http://identity:4001/' }]),
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      rateLimit: { max: 5 },
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      trustProxy: 1,
      logLevel: 'warn',
      nodeEnv: 'production',
      routes: [{ service: 'identity', prefix: '/auth', upstream: 'http://identity:4001' }],
    });
  });

  it('disables CORS by default in production only', () => {
    expect(load({ NODE_ENV: 'production' }).corsOrigins).toEqual([]);
    expect(load({ NODE_ENV: 'test' }).corsOrigins).toBe('*');
    expect(load({ NODE_ENV: 'production', GATEWAY_CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
  });

  it('accepts prefixes with :name parameter segments', () => {
    const config = load(
      routes([
        { service: 'identity', prefix: '/api/v1/companies', upstream: 'http://identity:4001' },
        { service: 'ledger', prefix: '/api/v1/companies/:id/credits', upstream: 'http://ledger:4005' },
      ]),
    );
    expect(config.routes.map((r) => r.prefix)).toEqual([
      '/api/v1/companies',
      '/api/v1/companies/:id/credits',
    ]);
  });

  it('parses the body limits and the upload paths', () => {
    const config = load({
      GATEWAY_BODY_LIMIT: '2048',
      GATEWAY_UPLOAD_PATHS: ' /api/v1/uploads , /api/v1/jobs/:id/files,/a/*/b ',
      GATEWAY_UPLOAD_BODY_LIMIT: '104857600',
    });
    expect(config).toMatchObject({
      bodyLimit: 2048,
      uploads: { paths: ['/api/v1/uploads', '/api/v1/jobs/:id/files', '/a/*/b'], bodyLimit: 104_857_600 },
    });
  });

  it('treats empty variables as unset', () => {
    expect(load({ GATEWAY_PORT: '', GATEWAY_ROUTES: ' ' })).toMatchObject({ port: 8080, routes: [] });
  });

  it.each([
    [{ GATEWAY_PORT: 'eighty' }, /GATEWAY_PORT: expected an integer/],
    [{ GATEWAY_PORT: '70000' }, /GATEWAY_PORT/],
    [{ GATEWAY_RATE_LIMIT_MAX: '0' }, /GATEWAY_RATE_LIMIT_MAX/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ GATEWAY_CORS_ORIGINS: 'app.example.com' }, /GATEWAY_CORS_ORIGINS: "app.example.com" is not an origin/],
    [{ GATEWAY_ROUTES: '[{' }, /GATEWAY_ROUTES: expected a JSON array/],
    [{ GATEWAY_BODY_LIMIT: '1mb' }, /GATEWAY_BODY_LIMIT: expected an integer/],
    [{ GATEWAY_UPLOAD_PATHS: '/api/v1/media/' }, /GATEWAY_UPLOAD_PATHS\[0\]: expected path patterns/],
    [{ GATEWAY_UPLOAD_PATHS: '/ok,media' }, /GATEWAY_UPLOAD_PATHS\[1\]/],
    [{ GATEWAY_ROUTES: '{}' }, /GATEWAY_ROUTES/],
    [
      routes([{ service: 'identity', prefix: 'auth', upstream: 'http://a:1' }]),
      /GATEWAY_ROUTES\[0\]\.prefix/,
    ],
    [
      routes([{ service: 'identity', prefix: '/auth/', upstream: 'http://a:1' }]),
      /GATEWAY_ROUTES\[0\]\.prefix/,
    ],
    [routes([{ service: 'identity', prefix: '/docs', upstream: 'http://a:1' }]), /gateway's own paths/],
    [routes([{ service: 'ledger', prefix: '/companies/:', upstream: 'http://a:1' }]), /\[0\]\.prefix/],
    [routes([{ service: 'ledger', prefix: '/companies/:1d', upstream: 'http://a:1' }]), /\[0\]\.prefix/],
    [routes([{ service: 'ledger', prefix: '/companies/x:id', upstream: 'http://a:1' }]), /\[0\]\.prefix/],
    [
      routes([{ service: 'identity', prefix: '/auth', upstream: 'http://a:1/base' }]),
      /GATEWAY_ROUTES\[0\]\.upstream/,
    ],
    [
      routes([{ service: 'identity', prefix: '/auth', upstream: 'ftp://a' }]),
      /GATEWAY_ROUTES\[0\]\.upstream/,
    ],
    [
      routes([{ service: 'Identity', prefix: '/auth', upstream: 'http://a:1' }]),
      /GATEWAY_ROUTES\[0\]\.service/,
    ],
    [
      routes([
        { service: 'identity', prefix: '/auth', upstream: 'http://a:1' },
        { service: 'tasks', prefix: '/auth', upstream: 'http://b:1' },
      ]),
      /GATEWAY_ROUTES\[1\]\.prefix: duplicate prefix/,
    ],
    [
      routes([
        { service: 'identity', prefix: '/auth', upstream: 'http://a:1' },
        { service: 'identity', prefix: '/users', upstream: 'http://b:1' },
      ]),
      /GATEWAY_ROUTES\[1\]\.upstream: service "identity" is already routed/,
    ],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });
});

describe('serviceTargets', () => {
  it('groups prefixes per service in order of appearance', () => {
    const { routes: parsed } = load(
      routes([
        { service: 'identity', prefix: '/auth', upstream: 'http://identity:4001' },
        { service: 'tasks', prefix: '/tasks', upstream: 'http://tasks:4002' },
        { service: 'identity', prefix: '/users', upstream: 'http://identity:4001' },
      ]),
    );
    expect(serviceTargets(parsed)).toEqual([
      { name: 'identity', upstream: 'http://identity:4001', prefixes: ['/auth', '/users'] },
      { name: 'tasks', upstream: 'http://tasks:4002', prefixes: ['/tasks'] },
    ]);
  });
});
