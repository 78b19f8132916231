import { createHash, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { knownDevelopmentSecret } from './development-secrets.ts';

const base64 = (text: string) => Buffer.from(text, 'base64');
const keyringKey = (ring: string) => base64(ring.slice(ring.indexOf(':') + 1));

// Every development secret that is or was committed to the repository, as its service decodes it.
const COMMITTED: [string, Buffer][] = [
  ['compose IDENTITY_KEY_ENCRYPTION_KEY', base64('9m3CkZrL15WMiKdrM2REItULdZwIAKpxZwPd+Z2sie8=')],
  [
    'identity built-in key',
    createHash('sha256').update('tessera identity: development key, never production').digest(),
  ],
  ['compose SUBMISSIONS_PSEUDONYM_KEY', base64('pJ4jOUW6Yv2ZkF0l3Qp9yS8mN1cR7tX5bH2dG6wK0eA=')],
  ['submissions built-in pseudonym key', Buffer.from('tessera-dev-bundle-pseudonym-key')],
  [
    'compose LEDGER_SEAL_PRIVATE_KEY (its Ed25519 seed)',
    Buffer.from(
      createPrivateKey({
        key: base64('MC4CAQAwBQYDK2VwBCIEIAhdYmojGQuR1G0rJtrbxLQR4s6XuQumGWrB/Ewt2II2'),
        format: 'der',
        type: 'pkcs8',
      }).export({ format: 'jwk' }).d ?? '',
      'base64url',
    ),
  ],
  ['payouts DEVELOPMENT_KEYRING', keyringKey('dev1:IobO6fPjpYcAGxXrZcIUS+om0S9AbZeMDZ0i7sAaJUE=')],
  ['engagement DEVELOPMENT_WEBHOOK_KEYS', keyringKey('dev1:q3F0bL1mXw8o2xq2m0Hq5W3c3Hk8cVZc1l7z4Yb9ZqM=')],
  ['MinIO default login', Buffer.from('minioadmin')],
];

describe('known development secrets', () => {
  it.each(COMMITTED)('knows %s', (_name, bytes) => {
    expect(knownDevelopmentSecret(bytes)).toBeTypeOf('string');
  });

  it('knows nothing else', () => {
    expect(knownDevelopmentSecret(Buffer.alloc(32))).toBeUndefined();
    expect(knownDevelopmentSecret('a real secret')).toBeUndefined();
  });
});
