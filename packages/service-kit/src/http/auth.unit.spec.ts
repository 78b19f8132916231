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

describe('the verified-token cache', () => {
  async function setup(options: { cacheSize?: number; cacheTtlMs?: number } = {}) {
    const issuer = await createTestIssuer();
    let now = Date.now();
    const verifier = createTokenVerifier({
      jwks: issuer.jwks,
      issuer: issuer.issuer,
      audience: issuer.audience,
      clock: () => now,
      ...options,
    });
    return { issuer, verifier, advance: (ms: number) => (now += ms) };
  }

  it('answers a token it verified before from memory, with the same principal', async () => {
    const { issuer, verifier } = await setup();
    const token = await issuer.token({ sub: 'user-1', role: 'judge' as never });
    const first = await verifier.verify(token).catch(() => undefined);
    // A role outside the enum is refused, and a refusal is never remembered.
    expect(first).toBeUndefined();
    expect(verifier.stats()).toEqual({ verified: 0, cached: 0, size: 0 });

    const good = await issuer.token({ sub: 'user-1', role: 'contributor' });
    const principal = await verifier.verify(good);
    expect(await verifier.verify(good)).toEqual(principal);
    expect(verifier.stats()).toEqual({ verified: 1, cached: 1, size: 1 });
  });

  it('never answers a token past its exp, nor one verified longer ago than the TTL', async () => {
    const { issuer, verifier, advance } = await setup({ cacheTtlMs: 60_000 });
    const short = await issuer.token({ expiresIn: '30s' });
    const long = await issuer.token({ expiresIn: '15m' });
    await verifier.verify(short);
    await verifier.verify(long);
    advance(31_000);
    expect((await problemOf(verifier.verify(short))).code).toBe('TOKEN_EXPIRED');
    expect(await verifier.verify(long)).toMatchObject({ role: 'contributor' });
    expect(verifier.stats()).toMatchObject({ verified: 2, cached: 1 });
    advance(30_000); // 61 s after it was verified: verified again, from the signature
    await verifier.verify(long);
    expect(verifier.stats()).toMatchObject({ verified: 3, cached: 1 });
  });

  it('verifies afresh a token altered in any byte', async () => {
    const { issuer, verifier } = await setup();
    const token = await issuer.token();
    await verifier.verify(token);
    // A character well inside the signature: the last one partly encodes padding bits.
    const at = token.length - 10;
    const altered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    const [header, payload] = token.split('.');
    const forged = `${header}.${Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' }),
    ).toString('base64url')}.${token.split('.')[2]}`;
    expect((await problemOf(verifier.verify(altered))).code).toBe('TOKEN_INVALID');
    expect((await problemOf(verifier.verify(forged))).code).toBe('TOKEN_INVALID');
    expect(verifier.stats()).toEqual({ verified: 1, cached: 0, size: 1 });
  });

  it('holds at most cacheSize tokens, dropping the oldest; 0 holds none', async () => {
    const { issuer, verifier } = await setup({ cacheSize: 2 });
    const [a, b, c] = await Promise.all([issuer.token(), issuer.token(), issuer.token()]);
    for (const token of [a, b, c]) await verifier.verify(token);
    expect(verifier.stats().size).toBe(2);
    await verifier.verify(c); // still held
    await verifier.verify(a); // dropped first: verified again
    expect(verifier.stats()).toEqual({ verified: 4, cached: 1, size: 2 });

    const none = await setup({ cacheSize: 0 });
    const token = await none.issuer.token();
    await none.verifier.verify(token);
    await none.verifier.verify(token);
    expect(none.verifier.stats()).toEqual({ verified: 2, cached: 0, size: 0 });
  });

  it('gives each caller a principal of its own', async () => {
    const { issuer, verifier } = await setup();
    const token = await issuer.token({ sub: 'user-9' });
    const first = await verifier.verify(token);
    first.userId = 'someone-else';
    expect((await verifier.verify(token)).userId).toBe('user-9');
  });
});
