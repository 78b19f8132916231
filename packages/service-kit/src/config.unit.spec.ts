import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, serviceConfigSchema } from './config.ts';

const valid = {
  SERVICE_NAME: 'ledger',
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
});
