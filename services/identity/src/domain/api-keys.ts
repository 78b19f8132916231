import { randomBytes } from 'node:crypto';
import { randomSecret, sha256Hex } from './secrets.ts';

/**
 * A company API key reads `tsk_<prefix>_<secret>`: the prefix (shown in lists, stored in clear)
 * finds the key; the 256-bit secret proves it. Only a SHA-256 of the whole key is stored: with
 * that much entropy a fast hash cannot be reversed, and verifying costs nothing.
 */
export const API_KEY_SCOPES = [
  'company:read',
  'campaigns:read',
  'campaigns:write',
  'tasks:read',
  'tasks:write',
  'submissions:read',
  'submissions:review',
  'datasets:read',
  'billing:read',
  'webhooks:read',
  'webhooks:write',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const MAX_ACTIVE_KEYS_PER_COMPANY = 20;

const FORMAT = /^tsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  prefix: string;
  /** The whole key, shown once. */
  key: string;
  hash: string;
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(6).toString('hex');
  const key = `tsk_${prefix}_${randomSecret(32)}`;
  return { prefix, key, hash: sha256Hex(key) };
}

/** The lookup prefix of a well-formed key, or null. */
export function parseApiKey(key: string): { prefix: string; hash: string } | null {
  const match = FORMAT.exec(key);
  return match?.[1] ? { prefix: match[1], hash: sha256Hex(key) } : null;
}

/** What the key is shown as in lists: enough to recognise it, nothing to use it. */
export function displayPrefix(prefix: string): string {
  return `tsk_${prefix}`;
}
