import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_WEBHOOK_KEYS } from './secrets.ts';
import { webhookSettings } from './settings.ts';

const base = {
  NODE_ENV: 'production' as const,
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

describe('webhook keys in production', () => {
  it('refuses the development key committed to the repository, also under another key id', () => {
    const devKey = DEVELOPMENT_WEBHOOK_KEYS.slice(DEVELOPMENT_WEBHOOK_KEYS.indexOf(':') + 1);
    for (const keys of [DEVELOPMENT_WEBHOOK_KEYS, `k2:${randomBytes(32).toString('base64')},old:${devKey}`]) {
      expect(() => webhookSettings({ ...base, ENGAGEMENT_WEBHOOK_KEYS: keys })).toThrow(
        /ENGAGEMENT_WEBHOOK_KEYS: is a development value committed to the repository/,
      );
    }
    expect(
      webhookSettings({ ...base, NODE_ENV: 'test', ENGAGEMENT_WEBHOOK_KEYS: DEVELOPMENT_WEBHOOK_KEYS }),
    ).toBeTruthy();
  });
});
