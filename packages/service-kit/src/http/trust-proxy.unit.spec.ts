import { describe, expect, it } from 'vitest';
import { loadConfig, serviceConfigSchema } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createHttpApp } from './app.ts';

const env = {
  SERVICE_NAME: 'svc',
  NODE_ENV: 'production',
  PORT: '4000',
  DATABASE_URL: 'postgres://u@localhost/tessera_svc',
  NATS_URL: 'nats://localhost:4222',
};

async function appWith(trustProxy: string) {
  const app = await createHttpApp({
    name: 'svc',
    logger: createLogger({ name: 'svc', level: 'silent', pretty: false }),
    rateLimitMax: false,
    trustProxy,
  });
  app.get('/ip', (request) => ({ ip: request.ip }));
  return app;
}

describe('TRUST_PROXY', () => {
  it('trusts only loopback by default: a neighbour on a private network cannot claim a client address', async () => {
    const config = loadConfig(serviceConfigSchema, env);
    expect(config.TRUST_PROXY).toBe('loopback');
    const app = await appWith(config.TRUST_PROXY);
    const ip = async (remoteAddress: string) =>
      (await app.inject({ url: '/ip', remoteAddress, headers: { 'x-forwarded-for': '203.0.113.9' } })).json<{
        ip: string;
      }>().ip;
    expect(await ip('10.0.0.5')).toBe('10.0.0.5');
    expect(await ip('172.28.0.20')).toBe('172.28.0.20');
    expect(await ip('127.0.0.1')).toBe('203.0.113.9');
    await app.close();
  });

  it('trusts the gateway’s address alone when it names it (compose)', async () => {
    const config = loadConfig(serviceConfigSchema, { ...env, TRUST_PROXY: '172.28.0.10' });
    const app = await appWith(config.TRUST_PROXY);
    const ip = async (remoteAddress: string) =>
      (await app.inject({ url: '/ip', remoteAddress, headers: { 'x-forwarded-for': '203.0.113.9' } })).json<{
        ip: string;
      }>().ip;
    expect(await ip('172.28.0.10')).toBe('203.0.113.9');
    expect(await ip('172.28.0.11')).toBe('172.28.0.11');
    await app.close();
  });
});
