import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, serviceConfigSchema } from './config.ts';

const valid = {
  SERVICE_NAME: 'ledger',
  NODE_ENV: 'production',
  PORT: '4005',
  DATABASE_URL: 'postgres://u@localhost/tessera_ledger',
  NATS_URL: 'nats://localhost:4222',
};

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const config = loadConfig(serviceConfigSchema, valid);
    expect(config).toMatchObject({ PORT: 4005, HOST: '127.0.0.1', NATS_PREFIX: '', LOG_LEVEL: 'info' });
  });

  it('fails fast naming every bad variable', () => {
    const attempt = () =>
      loadConfig(serviceConfigSchema, { ...valid, PORT: 'eighty', DATABASE_URL: undefined });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT: /);
    expect(attempt).toThrow(/DATABASE_URL: is required/);
  });

  it('requires NODE_ENV: a forgotten one never starts a process as development', () => {
    const attempt = () => loadConfig(serviceConfigSchema, { ...valid, NODE_ENV: undefined });
    expect(attempt).toThrow(/NODE_ENV: is required: development, test or production/);
    expect(() => loadConfig(serviceConfigSchema, { ...valid, NODE_ENV: 'prod' })).toThrow(
      /NODE_ENV: must be development, test or production/,
    );
  });
});
