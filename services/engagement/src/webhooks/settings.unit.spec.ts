import { randomBytes } from 'node:crypto';
import { ConfigError } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { newSigningSecret, openSecret, sealSecret, UnreadableSecretError } from './secrets.ts';
import { webhookSettings } from './settings.ts';

const key = () => randomBytes(32).toString('base64');
const base = {
  NODE_ENV: 'production' as const,
  ENGAGEMENT_WEBHOOK_KEYS: `k1:${key()}`,
  ENGAGEMENT_WEBHOOK_KEY_ID: undefined,
  ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: false,
  ENGAGEMENT_WEBHOOK_INTERVAL_MS: 1_000,
  ENGAGEMENT_WEBHOOK_TIMEOUT_MS: 10_000,
  ENGAGEMENT_WEBHOOK_RETRY_BASE_MS: 30_000,
  ENGAGEMENT_WEBHOOK_MAX_ATTEMPTS: 8,
  ENGAGEMENT_WEBHOOK_DISABLE_AFTER_MS: 259_200_000,
  ENGAGEMENT_WEBHOOK_LOG_RETENTION_DAYS: 30,
  ENGAGEMENT_WEBHOOK_PRUNE_INTERVAL_MS: 3_600_000,
};
const owner = {
  webhookId: '0192f0c1-0000-7000-8000-000000000001',
  companyId: '0192f0c1-0000-7000-8000-0000000000c0',
};

describe('webhook settings', () => {
  it('needs ENGAGEMENT_WEBHOOK_KEYS outside development and test', () => {
    expect(() => webhookSettings({ ...base, ENGAGEMENT_WEBHOOK_KEYS: undefined })).toThrow(ConfigError);
    expect(() => webhookSettings({ ...base, ENGAGEMENT_WEBHOOK_KEYS: undefined })).toThrow(
      /ENGAGEMENT_WEBHOOK_KEYS/,
    );
    expect(
      webhookSettings({ ...base, NODE_ENV: 'test', ENGAGEMENT_WEBHOOK_KEYS: undefined }).keyring.activeKeyId,
    ).toBe('dev1');
  });

  it('refuses the private-address switch in production, and honours it elsewhere', () => {
    expect(() => webhookSettings({ ...base, ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: true })).toThrow(
      /ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE/,
    );
    expect(
      webhookSettings({ ...base, NODE_ENV: 'test', ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: true }).allowPrivate,
    ).toBe(true);
  });

  it('refuses malformed keys and an active key id that is not in the ring, without echoing keys', () => {
    const short = Buffer.alloc(16).toString('base64');
    expect(() => webhookSettings({ ...base, ENGAGEMENT_WEBHOOK_KEYS: `k1:${short}` })).toThrow(
      /32-byte keys/,
    );
    expect(() => webhookSettings({ ...base, ENGAGEMENT_WEBHOOK_KEY_ID: 'k9' })).toThrow(
      /"k9" is not in the keyring/,
    );
  });
});

describe('webhook secrets at rest', () => {
  const keyring = webhookSettings({
    ...base,
    ENGAGEMENT_WEBHOOK_KEYS: `old:${key()},new:${key()}`,
    ENGAGEMENT_WEBHOOK_KEY_ID: 'new',
  }).keyring;

  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newSigningSecret()).not.toBe(secret);
  });

  it('seals under the active key and opens only for the same webhook', () => {
    const secret = newSigningSecret();
    const sealed = sealSecret(keyring, owner, secret);
    expect(sealed.keyId).toBe('new');
    expect(sealed.sealed.includes(Buffer.from(secret))).toBe(false);
    expect(openSecret(keyring, owner, sealed)).toBe(secret);
    expect(() => openSecret(keyring, { ...owner, webhookId: owner.companyId }, sealed)).toThrow(
      UnreadableSecretError,
    );
    const flipped = Buffer.from(sealed.sealed);
    flipped[20] = flipped[20]! ^ 1;
    expect(() => openSecret(keyring, owner, { ...sealed, sealed: flipped })).toThrow(UnreadableSecretError);
    expect(() => openSecret(keyring, owner, { ...sealed, keyId: 'gone' })).toThrow(/no webhook key "gone"/);
  });
});
