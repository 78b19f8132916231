import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_KEYRING, loadPayoutsConfig } from './config.ts';

const base = {
  SERVICE_NAME: 'payouts',
  NODE_ENV: 'test',
  PORT: '4006',
  DATABASE_URL: 'postgres://localhost/tessera_payouts',
  NATS_URL: 'nats://localhost:4222',
};

describe('payouts encryption keys in production', () => {
  it('refuses the development keyring committed to the repository, also under another key id', () => {
    const devKey = DEVELOPMENT_KEYRING.slice(DEVELOPMENT_KEYRING.indexOf(':') + 1);
    for (const keys of [DEVELOPMENT_KEYRING, `k2:${randomBytes(32).toString('base64')},old:${devKey}`]) {
      expect(() =>
        loadPayoutsConfig({ ...base, NODE_ENV: 'production', PAYOUTS_ENCRYPTION_KEYS: keys }),
      ).toThrow(/PAYOUTS_ENCRYPTION_KEYS: is a development value committed to the repository/);
    }
    const own = `k1:${randomBytes(32).toString('base64')}`;
    expect(
      loadPayoutsConfig({ ...base, NODE_ENV: 'production', PAYOUTS_ENCRYPTION_KEYS: own }).NODE_ENV,
    ).toBe('production');
    expect(
      loadPayoutsConfig({ ...base, NODE_ENV: 'test', PAYOUTS_ENCRYPTION_KEYS: DEVELOPMENT_KEYRING }),
    ).toBeTruthy();
  });
});
