import { ConfigError, developmentSecretMessage, knownDevelopmentSecret } from '@tessera/service-kit';
import type { EngagementConfig } from '../config.ts';
import { DEVELOPMENT_WEBHOOK_KEYS, type Keyring, parseKeyring } from './secrets.ts';

/** What the webhooks capability runs with, checked across variables once at start. */
export interface WebhookSettings {
  keyring: Keyring;
  /** Plain http and private addresses allowed (never in production). */
  allowPrivate: boolean;
  timeoutMs: number;
  retryBaseMs: number;
  maxAttempts: number;
  intervalMs: number;
  /** Failing this long (no delivery succeeding) gets a webhook switched off; 0: never. */
  disableAfterMs: number;
  logRetentionDays: number;
  pruneIntervalMs: number;
}

type WebhookConfig = Pick<
  EngagementConfig,
  | 'NODE_ENV'
  | 'ENGAGEMENT_WEBHOOK_KEYS'
  | 'ENGAGEMENT_WEBHOOK_KEY_ID'
  | 'ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE'
  | 'ENGAGEMENT_WEBHOOK_INTERVAL_MS'
  | 'ENGAGEMENT_WEBHOOK_TIMEOUT_MS'
  | 'ENGAGEMENT_WEBHOOK_RETRY_BASE_MS'
  | 'ENGAGEMENT_WEBHOOK_MAX_ATTEMPTS'
  | 'ENGAGEMENT_WEBHOOK_DISABLE_AFTER_MS'
  | 'ENGAGEMENT_WEBHOOK_LOG_RETENTION_DAYS'
  | 'ENGAGEMENT_WEBHOOK_PRUNE_INTERVAL_MS'
>;

/**
 * The settings, or a ConfigError naming the variable: outside development and test the keyring
 * must be given (the fixed development key would leave every secret readable to anyone with the
 * source), and the private-address switch is refused in production rather than ignored, so an
 * operator learns of it at start instead of from an SSRF.
 */
export function webhookSettings(config: WebhookConfig): WebhookSettings {
  const development = config.NODE_ENV === 'development' || config.NODE_ENV === 'test';
  const problems: string[] = [];
  if (!development && config.ENGAGEMENT_WEBHOOK_KEYS === undefined) {
    problems.push(
      'ENGAGEMENT_WEBHOOK_KEYS: required outside development: kid:base64key (openssl rand -base64 32)',
    );
  }
  if (config.NODE_ENV === 'production' && config.ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE) {
    problems.push('ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: must not be true in production');
  }
  const keyring = parseKeyring(
    config.ENGAGEMENT_WEBHOOK_KEYS ?? DEVELOPMENT_WEBHOOK_KEYS,
    config.ENGAGEMENT_WEBHOOK_KEY_ID,
  );
  if (typeof keyring === 'string') problems.push(`ENGAGEMENT_WEBHOOK_KEYS: ${keyring}`);
  else if (config.NODE_ENV === 'production') {
    for (const key of keyring.keys.values()) {
      const committed = knownDevelopmentSecret(key);
      if (committed !== undefined)
        problems.push(`ENGAGEMENT_WEBHOOK_KEYS: ${developmentSecretMessage(committed)}`);
    }
  }
  if (problems.length > 0 || typeof keyring === 'string') {
    throw new ConfigError(`Invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  }
  return {
    keyring,
    allowPrivate: config.ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE && config.NODE_ENV !== 'production',
    timeoutMs: config.ENGAGEMENT_WEBHOOK_TIMEOUT_MS,
    retryBaseMs: config.ENGAGEMENT_WEBHOOK_RETRY_BASE_MS,
    maxAttempts: config.ENGAGEMENT_WEBHOOK_MAX_ATTEMPTS,
    intervalMs: config.ENGAGEMENT_WEBHOOK_INTERVAL_MS,
    disableAfterMs: config.ENGAGEMENT_WEBHOOK_DISABLE_AFTER_MS,
    logRetentionDays: config.ENGAGEMENT_WEBHOOK_LOG_RETENTION_DAYS,
    pruneIntervalMs: config.ENGAGEMENT_WEBHOOK_PRUNE_INTERVAL_MS,
  };
}
