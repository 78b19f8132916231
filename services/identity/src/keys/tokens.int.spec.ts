import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTokenVerifier, Refusal } from '@tessera/service-kit';
import { createTestIssuer } from '@tessera/service-kit/testing';
import { decodeJwt, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auth, type SessionBody, signUp, startIdentity, type TestIdentity } from '../testing/harness.ts';

let t: TestIdentity;

beforeAll(async () => {
  t = await startIdentity();
});
afterAll(async () => t?.stop());

async function jwks(): Promise<JSONWebKeySet> {
  const response = await t.app.inject({ url: '/.well-known/jwks.json' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

const kitVerifier = async () =>
  createTokenVerifier({ jwks: await jwks(), issuer: t.config.JWT_ISSUER, audience: t.config.JWT_AUDIENCE });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function meWith(token: string) {
  const response = await t.app.inject({ url: '/api/v1/users/me', headers: auth(token) });
  return [response.statusCode, response.json().code] as const;
}

describe('access tokens', () => {
  it('are EdDSA JWTs with kid, iss, aud, sub, role, a 15 minute exp and jti', async () => {
    const user = await signUp(t);
    const header = decodeProtectedHeader(user.access);
    const claims = decodeJwt(user.access);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'JWT' });
    expect((await jwks()).keys.map((k) => k.kid)).toContain(header.kid);
    expect(claims).toMatchObject({
      iss: 'tessera-identity',
      aud: 'tessera',
      sub: user.id,
      role: 'contributor',
    });
    expect(claims.exp! - claims.iat!).toBe(15 * 60);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof claims.sid).toBe('string');
    expect(JSON.stringify(claims)).not.toContain(user.email);
  });

  it("verify with the service kit's verifier against the published JWKS", async () => {
    const user = await signUp(t);
    expect(await (await kitVerifier()).verify(user.access)).toMatchObject({
      userId: user.id,
      role: 'contributor',
    });
  });

  it('verify through a remote JWKS fetched over HTTP, as other services do', async () => {
    const server: Server = createServer((_req, res) => {
      void jwks().then((keys) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(keys));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const verifier = createTokenVerifier({
        jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
        issuer: t.config.JWT_ISSUER,
        audience: t.config.JWT_AUDIENCE,
      });
      const user = await signUp(t);
      expect((await verifier.verify(user.access)).userId).toBe(user.id);
    } finally {
      server.close();
    }
  });
});

describe('tampered tokens are refused with 401', () => {
  it('a changed payload (role raised to admin)', async () => {
    const user = await signUp(t);
    const [header, payload, signature] = user.access.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = [header, b64({ ...claims, role: 'admin' }), signature].join('.');
    expect(await meWith(forged)).toEqual([401, 'TOKEN_INVALID']);
    const admin = await t.app.inject({ url: '/api/v1/admin/users', headers: auth(forged) });
    expect(admin.statusCode).toBe(401);
    const refused = (await kitVerifier()).verify(forged);
    await expect(refused).rejects.toBeInstanceOf(Refusal);
    await expect(refused).rejects.toMatchObject({ kind: 'unauthenticated', code: 'TOKEN_INVALID' });
  });

  it('alg: none', async () => {
    const user = await signUp(t);
    const claims = decodeJwt(user.access);
    const unsigned = `${b64({ alg: 'none', typ: 'JWT', kid: decodeProtectedHeader(user.access).kid })}.${b64(claims)}.`;
    expect(await meWith(unsigned)).toEqual([401, 'TOKEN_INVALID']);
  });

  it('signed by another key, same kid or not', async () => {
    const user = await signUp(t);
    const stranger = await createTestIssuer();
    const foreign = await stranger.token({ sub: user.id, role: 'admin' });
    expect(await meWith(foreign)).toEqual([401, 'TOKEN_INVALID']);

    // Another key claiming our kid: the signature does not match our public key.
    const { SignJWT } = await import('jose');
    const claims = decodeJwt(user.access);
    const impostor = await new SignJWT({ role: 'admin', sid: claims.sid })
      .setProtectedHeader({ alg: 'EdDSA', kid: decodeProtectedHeader(user.access).kid! })
      .setSubject(user.id)
      .setIssuer(t.config.JWT_ISSUER)
      .setAudience(t.config.JWT_AUDIENCE)
      .setJti('x')
      .setExpirationTime('5m')
      .sign(stranger.privateKey);
    expect(await meWith(impostor)).toEqual([401, 'TOKEN_INVALID']);
  });

  it('expired', async () => {
    const user = await signUp(t);
    const claims = decodeJwt(user.access);
    const { token } = await t.identity.keys.sign(
      { sub: user.id, role: 'contributor', sid: claims.sid as string },
      { ttlS: -60 },
    );
    expect(await meWith(token)).toEqual([401, 'TOKEN_EXPIRED']);
  });

  it('garbage and the wrong scheme', async () => {
    expect(await meWith('not.a.jwt')).toEqual([401, 'TOKEN_INVALID']);
    const basic = await t.app.inject({
      url: '/api/v1/users/me',
      headers: { authorization: 'Basic dXNlcjpwdw==' },
    });
    expect([basic.statusCode, basic.json().code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('signing keys', () => {
  it('are stored with the private key sealed (AES-256-GCM), never in clear', async () => {
    const rows = await t.service.db.selectFrom('signing_keys').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.private_key_encrypted).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
      expect(row.private_key_encrypted).not.toContain('PRIVATE KEY');
      expect(Object.keys(row.public_jwk).sort()).toEqual(['crv', 'kty', 'x']);
    }
  });

  it('rotate with overlap: old tokens keep verifying until they expire, then the old key is dropped', async () => {
    const user = await signUp(t);
    const oldKid = decodeProtectedHeader(user.access).kid!;

    const newKid = await t.identity.keys.rotate({ leadS: 0 });
    expect(newKid).not.toBe(oldKid);
    const published = (await jwks()).keys.map((k) => k.kid);
    expect(published).toEqual(expect.arrayContaining([oldKid, newKid]));

    // New tokens are signed by the new key; old ones still verify, here and in other services.
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: user.password },
    });
    const fresh = login.json<SessionBody>().session.access_token;
    expect(decodeProtectedHeader(fresh).kid).toBe(newKid);
    expect(await meWith(user.access)).toEqual([200, undefined]);
    const verifier = await kitVerifier();
    expect((await verifier.verify(user.access)).userId).toBe(user.id);
    expect((await verifier.verify(fresh)).userId).toBe(user.id);

    // Past the last old token's expiry plus grace, the old key leaves the JWKS and the table.
    t.clock.advance((t.config.ACCESS_TOKEN_TTL_S + t.config.SIGNING_KEY_RETIRE_GRACE_S + 1) * 1000);
    expect((await jwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
    await t.identity.keys.maintain();
    const kids = (await t.service.db.selectFrom('signing_keys').select('kid').execute()).map((r) => r.kid);
    expect(kids).not.toContain(oldKid);
    expect(kids).toContain(newKid);
  });

  it('publish the next key before it signs when rotated with a lead', async () => {
    const current = decodeProtectedHeader((await signUp(t)).access).kid!;
    const next = await t.identity.keys.rotate({ leadS: 60 });
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([current, next]));
    expect(decodeProtectedHeader((await signUp(t)).access).kid).toBe(current);
    t.clock.advance(61_000);
    expect(decodeProtectedHeader((await signUp(t)).access).kid).toBe(next);
  });

  it('rotate automatically once the interval has passed', async () => {
    const before = decodeProtectedHeader((await signUp(t)).access).kid!;
    t.clock.advance((t.config.SIGNING_KEY_ROTATION_INTERVAL_S + 1) * 1000);
    await t.identity.keys.maintain();
    t.clock.advance((t.config.SIGNING_KEY_PUBLISH_LEAD_S + 1) * 1000);
    const after = decodeProtectedHeader((await signUp(t)).access).kid!;
    expect(after).not.toBe(before);
  });

  it(
    'rotate from the rotate-keys command; running instances pick the key up',
    { timeout: 60_000 },
    async () => {
      const script = fileURLToPath(new URL('../../scripts/rotate-keys.ts', import.meta.url));
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', script, '--lead-seconds', '0'],
        { env: { ...process.env, DATABASE_URL: t.config.DATABASE_URL, NODE_ENV: 'test' } },
      );
      const kid = /new signing key (\S+)/.exec(stdout)?.[1];
      expect(kid).toBeDefined();
      // The command signals nothing: the instance sees the key once its copy is older than the
      // refresh interval (15 s), on a later request.
      await vi.waitFor(async () => expect((await jwks()).keys.map((k) => k.kid)).toContain(kid), {
        timeout: 30_000,
        interval: 500,
      });
      expect(decodeProtectedHeader((await signUp(t)).access).kid).toBe(kid);
    },
  );
});

describe('the JWKS route', () => {
  it('answers from memory: many requests, no re-read of the key table', async () => {
    await t.identity.keys.reload();
    const reads = vi.spyOn(t.identity.keys, 'reload');
    try {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => t.app.inject({ url: '/.well-known/jwks.json' })),
      );
      expect(responses.every((r) => r.statusCode === 200)).toBe(true);
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
  });

  it('is cacheable: Cache-Control, a strong ETag, 304 for If-None-Match, a new ETag after a rotation', async () => {
    const first = await t.app.inject({ url: '/.well-known/jwks.json' });
    expect(first.headers['cache-control']).toBe('public, max-age=300');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await t.app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } });
    expect([again.statusCode, again.body]).toEqual([304, '']);
    const kid = await t.identity.keys.rotate({ leadS: 60 });
    const after = await t.app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json().keys.map((k: { kid: string }) => k.kid)).toContain(kid);
  });
});
