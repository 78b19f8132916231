import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JSONWebKeySet, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../testing/index.ts';
import { createTokenVerifier } from './auth.ts';
import { Refusal } from '../refusal.ts';
import { statusOfRefusal } from './errors.ts';

// A stand-in for identity's /.well-known/jwks.json whose key set the test rotates.
let published: JSONWebKeySet = { keys: [] };
let server: Server;
let jwksUrl: string;

beforeAll(async () => {
  server = createServer((_, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(published));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function problemOf(promise: Promise<unknown>): Promise<Refusal> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Refusal);
  return error as Refusal;
}

describe('token verification against a remote JWKS', () => {
  it('follows key rotation: a new kid is fetched, a retired key keeps verifying while published', async () => {
    const first = await createTestIssuer();
    const second = await createTestIssuer();
    published = { keys: [...first.jwks.keys] };
    const verifier = createTokenVerifier({
      jwksUrl,
      issuer: first.issuer,
      audience: first.audience,
      jwksCooldownMs: 0,
    });

    const oldToken = await first.token({ sub: 'user-1', role: 'contributor' });
    expect(await verifier.verify(oldToken)).toMatchObject({ userId: 'user-1', role: 'contributor' });

    // Identity rotates: the new key signs, the old one stays published until its tokens expire.
    published = { keys: [...second.jwks.keys, ...first.jwks.keys] };
    const newToken = await second.token({ sub: 'user-2', role: 'admin' });
    expect(await verifier.verify(newToken)).toMatchObject({ userId: 'user-2', role: 'admin' });
    expect(await verifier.verify(oldToken)).toMatchObject({ userId: 'user-1' });

    // The old key is withdrawn: a verifier that fetches afresh refuses its tokens.
    published = { keys: [...second.jwks.keys] };
    const fresh = createTokenVerifier({ jwksUrl, issuer: first.issuer, audience: first.audience });
    expect((await problemOf(fresh.verify(oldToken))).code).toBe('TOKEN_INVALID');
    expect(await fresh.verify(newToken)).toMatchObject({ userId: 'user-2' });
  });

  it('answers 503 AUTH_UNAVAILABLE, not 401, when the key set cannot be fetched', async () => {
    const issuer = await createTestIssuer();
    const verifier = createTokenVerifier({
      jwksUrl: 'http://127.0.0.1:1/.well-known/jwks.json',
      issuer: issuer.issuer,
      audience: issuer.audience,
    });
    const problem = await problemOf(verifier.verify(await issuer.token()));
    expect([statusOfRefusal[problem.kind], problem.code]).toEqual([503, 'AUTH_UNAVAILABLE']);
  });

  it('refuses a token without the role claim', async () => {
    const issuer = await createTestIssuer();
    published = { keys: [...issuer.jwks.keys] };
    const verifier = createTokenVerifier({ jwksUrl, issuer: issuer.issuer, audience: issuer.audience });
    const roleless = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: issuer.jwks.keys[0]!.kid! })
      .setSubject('x')
      .setJti('j')
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setExpirationTime('5m')
      .sign(issuer.privateKey);
    expect((await problemOf(verifier.verify(roleless))).code).toBe('TOKEN_INVALID');
  });
});

describe('machine-client claims', () => {
  async function sign(claims: Record<string, unknown>) {
    const issuer = await createTestIssuer();
    const token = await new SignJWT({ role: 'company', ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: issuer.jwks.keys[0]!.kid! })
      .setSubject('key-1')
      .setJti('j')
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setExpirationTime('5m')
      .sign(issuer.privateKey);
    const verifier = createTokenVerifier({
      jwks: issuer.jwks,
      issuer: issuer.issuer,
      audience: issuer.audience,
    });
    return verifier.verify(token);
  }

  it('reads company_id and scopes into the principal when present', async () => {
    expect(await sign({ company_id: 'c-1', scopes: ['campaigns:read'] })).toEqual({
      userId: 'key-1',
      role: 'company',
      tokenId: 'j',
      companyId: 'c-1',
      scopes: ['campaigns:read'],
    });
  });

  it('leaves them out of a user token', async () => {
    const principal = await sign({});
    expect(principal).toEqual({ userId: 'key-1', role: 'company', tokenId: 'j' });
    expect('companyId' in principal).toBe(false);
  });

  it('refuses malformed machine claims', async () => {
    expect((await problemOf(sign({ scopes: 'campaigns:read' }))).code).toBe('TOKEN_INVALID');
    expect((await problemOf(sign({ company_id: 42 }))).code).toBe('TOKEN_INVALID');
  });
});
