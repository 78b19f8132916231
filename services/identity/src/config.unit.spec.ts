import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { loadIdentityConfig } from './config.ts';

const base = {
  SERVICE_NAME: 'identity',
  NODE_ENV: 'development',
  PORT: '4001',
  DATABASE_URL: 'postgres://localhost/identity',
  NATS_URL: 'nats://localhost:4222',
};

describe('identity configuration', () => {
  it('has safe defaults outside production: 15 minute tokens, dev mailbox, development key', () => {
    const config = loadIdentityConfig(base);
    expect(config).toMatchObject({ ACCESS_TOKEN_TTL_S: 900, NODE_ENV: 'development' });
    expect(config.SMTP_URL).toBeUndefined();
    expect(config.IDENTITY_KEY_ENCRYPTION_KEY).toBeUndefined();
  });

  it('requires a key-encryption key and SMTP in production', () => {
    expect(() => loadIdentityConfig({ ...base, NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadIdentityConfig({ ...base, NODE_ENV: 'production' });
    } catch (error) {
      expect((error as Error).message).toMatch(/IDENTITY_KEY_ENCRYPTION_KEY: is required in production/);
      expect((error as Error).message).toMatch(/SMTP_URL: is required in production/);
    }
    const ok = loadIdentityConfig({
      ...base,
      NODE_ENV: 'production',
      IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SMTP_URL: 'smtps://user:pass@mail.example.com',
      PUBLIC_APP_URL: 'https://app.example.com',
    });
    expect(ok.NODE_ENV).toBe('production');
  });

  it('refuses in production the development keys committed to the repository, in any encoding', () => {
    const production = { ...base, NODE_ENV: 'production', SMTP_URL: 'smtps://user:pass@mail.example.com' };
    const composeDefault = '9m3CkZrL15WMiKdrM2REItULdZwIAKpxZwPd+Z2sie8=';
    const builtIn = createHash('sha256')
      .update('tessera identity: development key, never production')
      .digest();
    for (const key of [
      composeDefault,
      Buffer.from(composeDefault, 'base64').toString('hex'),
      builtIn.toString('base64'),
      builtIn.toString('hex'),
    ]) {
      expect(() => loadIdentityConfig({ ...production, IDENTITY_KEY_ENCRYPTION_KEY: key })).toThrow(
        /IDENTITY_KEY_ENCRYPTION_KEY: is a development value committed to the repository/,
      );
    }
    // Development keeps working with them.
    expect(loadIdentityConfig({ ...base, IDENTITY_KEY_ENCRYPTION_KEY: composeDefault }).NODE_ENV).toBe(
      'development',
    );
  });

  it('requires PUBLIC_APP_URL outside development and tests (mailed links point there)', () => {
    const production = {
      ...base,
      NODE_ENV: 'production',
      IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SMTP_URL: 'smtps://user:pass@mail.example.com',
    };
    expect(() => loadIdentityConfig(production)).toThrow(/PUBLIC_APP_URL: is required outside development/);
    expect(() => loadIdentityConfig({ ...production, PUBLIC_APP_URL: 'not a url' })).toThrow(
      /PUBLIC_APP_URL/,
    );
    expect(
      loadIdentityConfig({ ...production, PUBLIC_APP_URL: 'https://app.example.com' }).PUBLIC_APP_URL,
    ).toBe('https://app.example.com');
    // Development and tests keep the local web app's address.
    for (const NODE_ENV of ['development', 'test']) {
      expect(loadIdentityConfig({ ...base, NODE_ENV }).PUBLIC_APP_URL).toBe('http://localhost:8080');
    }
  });

  it('refuses a key-encryption key of the wrong size and a bad admin email', () => {
    expect(() => loadIdentityConfig({ ...base, IDENTITY_KEY_ENCRYPTION_KEY: 'short' })).toThrow(/32 bytes/);
    expect(() => loadIdentityConfig({ ...base, ADMIN_EMAIL: 'root' })).toThrow(/ADMIN_EMAIL/);
  });
});
