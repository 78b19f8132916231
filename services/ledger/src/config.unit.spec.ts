import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadLedgerConfig } from './config.ts';

const base = {
  SERVICE_NAME: 'ledger',
  NODE_ENV: 'development',
  PORT: '4005',
  DATABASE_URL: 'postgres://localhost/ledger',
  NATS_URL: 'nats://localhost:4222',
};

describe('ledger configuration', () => {
  it('defaults to the Postgres store, USD and a 10% fee', () => {
    expect(loadLedgerConfig(base)).toMatchObject({
      LEDGER_EVENT_STORE: 'postgres',
      LEDGER_CURRENCY: 'USD',
      PLATFORM_FEE_BPS: 1000,
    });
  });

  it('needs a KurrentDB URL to use KurrentDB', () => {
    expect(() => loadLedgerConfig({ ...base, LEDGER_EVENT_STORE: 'kurrentdb' })).toThrow(/KURRENTDB_URL/);
  });

  it('needs the seal key in production, where a generated one would prove nothing', () => {
    expect(() => loadLedgerConfig({ ...base, NODE_ENV: 'production' })).toThrow(
      /LEDGER_SEAL_PRIVATE_KEY: is required in production/,
    );
    expect(
      loadLedgerConfig({ ...base, NODE_ENV: 'production', LEDGER_SEAL_PRIVATE_KEY: 'MC4CAQ' }),
    ).toMatchObject({ NODE_ENV: 'production' });
  });

  it('refuses in production the seal key committed to the repository, as DER or PEM', () => {
    const composeDefault = 'MC4CAQAwBQYDK2VwBCIEIAhdYmojGQuR1G0rJtrbxLQR4s6XuQumGWrB/Ewt2II2';
    const pem = createPrivateKey({ key: Buffer.from(composeDefault, 'base64'), format: 'der', type: 'pkcs8' })
      .export({ format: 'pem', type: 'pkcs8' })
      .toString();
    for (const key of [composeDefault, pem]) {
      expect(() =>
        loadLedgerConfig({ ...base, NODE_ENV: 'production', LEDGER_SEAL_PRIVATE_KEY: key }),
      ).toThrow(/LEDGER_SEAL_PRIVATE_KEY: is a development value committed to the repository/);
    }
    const own = generateKeyPairSync('ed25519')
      .privateKey.export({ format: 'der', type: 'pkcs8' })
      .toString('base64');
    expect(
      loadLedgerConfig({ ...base, NODE_ENV: 'production', LEDGER_SEAL_PRIVATE_KEY: own })
        .LEDGER_SEAL_PRIVATE_KEY,
    ).toBe(own);
    expect(loadLedgerConfig({ ...base, LEDGER_SEAL_PRIVATE_KEY: composeDefault }).NODE_ENV).toBe(
      'development',
    );
  });

  it('refuses a fee above 100% and a currency that is not ISO 4217', () => {
    expect(() => loadLedgerConfig({ ...base, PLATFORM_FEE_BPS: '10001' })).toThrow(/PLATFORM_FEE_BPS/);
    expect(() => loadLedgerConfig({ ...base, LEDGER_CURRENCY: 'usd' })).toThrow(/LEDGER_CURRENCY/);
  });
});
