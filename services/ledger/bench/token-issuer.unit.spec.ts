import { randomUUID } from 'node:crypto';
import { createTokenVerifier } from '@tessera/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTokenIssuer, type TokenIssuer } from './token-issuer.ts';

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await startTokenIssuer();
});
afterAll(() => issuer.close());

describe('the benchmark token issuer', () => {
  it('signs tokens the services verify over its JWKS, with the role and a session', async () => {
    const verifier = createTokenVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: 'tessera-identity',
      audience: 'tessera',
    });
    const sub = randomUUID();
    const principal = await verifier.verify(issuer.token({ sub, role: 'admin' }));
    expect(principal).toMatchObject({ userId: sub, role: 'admin' });
    expect(principal.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is refused by a verifier expecting another issuer', async () => {
    const verifier = createTokenVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: 'someone-else',
      audience: 'tessera',
    });
    await expect(verifier.verify(issuer.token({ sub: randomUUID(), role: 'admin' }))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
  });
});
