import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiagnosticsDB, diagnostics } from '../__fixtures__/diagnostics-service.ts';
import { createTokenVerifier } from '../http/auth.ts';
import { createLogger } from '../logger.ts';
import { KIT_PRUNE_WORKER, type RunningService, startService } from '../service.ts';
import { serviceTestClient, type ServiceTestClient } from '../testing/client.ts';
import { createTestIssuer, testServiceConfig, waitFor } from '../testing/index.ts';
import { pruneRevocations, revocationConsumerName } from './revocations.ts';

let service: RunningService<DiagnosticsDB>;
let drop: () => Promise<void>;
let issuer: Awaited<ReturnType<typeof createTestIssuer>>;
let client: ServiceTestClient;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const test = await testServiceConfig('diagnostics');
  drop = test.drop;
  service = await startService(diagnostics, test.config, {
    logger: createLogger({ name: 'diagnostics', level: 'silent', pretty: false }),
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
    relayPollIntervalMs: 50,
    workers: { [KIT_PRUNE_WORKER]: false },
  });
  client = serviceTestClient(service, 'diagnostics', issuer);
});

afterAll(async () => {
  await service?.stop();
  await drop?.();
});

/** A user's token as identity signs it: with the session in `sid`. */
const sessionToken = (sid: string) =>
  new SignJWT({ role: 'company', sid })
    .setProtectedHeader({ alg: 'EdDSA', kid: issuer.jwks.keys[0]!.kid! })
    .setSubject(randomUUID())
    .setIssuer(issuer.issuer)
    .setAudience(issuer.audience)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime('15m')
    .sign(issuer.privateKey);

const probe = (token: string) =>
  service.app.inject({
    method: 'POST',
    url: '/api/v1/probes',
    headers: { authorization: `Bearer ${token}` },
    payload: { id: randomUUID() },
  });

const revoked = (kind: 'session' | 'api_key', id: string, owner: string, expiresInMs = 16 * 60_000) =>
  buildEvent(
    'identity.principal.revoked.v1',
    {
      kind,
      principal_id: id,
      owner_id: owner,
      reason: kind === 'session' ? 'logout' : 'api_key_revoked',
      revoked_at: new Date().toISOString(),
      tokens_expire_by: new Date(Date.now() + expiresInMs).toISOString(),
    },
    { subject: id },
  );

describe('the revocation read model in every service’s auth layer', () => {
  it('refuses a revoked session’s token with 401 TOKEN_REVOKED within a second; other sessions pass', async () => {
    const sid = randomUUID();
    const token = await sessionToken(sid);
    const other = await sessionToken(randomUUID());
    expect((await probe(token)).statusCode).toBe(201);

    const started = Date.now();
    await client.publish(revoked('session', sid, randomUUID()));
    const refused = await waitFor(
      async () => {
        const response = await probe(token);
        return response.statusCode === 401 && response;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: 'the revoked session to be refused' },
    );
    const elapsed = Date.now() - started;
    expect(refused.json().code).toBe('TOKEN_REVOKED');
    expect(elapsed).toBeLessThan(1_000);
    expect((await probe(other)).statusCode).toBe(201);
  });

  it('refuses a revoked API key’s token; the company’s other keys pass', async () => {
    const companyId = randomUUID();
    const keyId = randomUUID();
    const sign = (id: string) =>
      new SignJWT({ role: 'company', company_id: companyId, scopes: ['company:read'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: issuer.jwks.keys[0]!.kid! })
        .setSubject(id)
        .setIssuer(issuer.issuer)
        .setAudience(issuer.audience)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime('15m')
        .sign(issuer.privateKey);
    const token = await sign(keyId);
    const otherKey = await sign(randomUUID());
    expect((await probe(token)).statusCode).toBe(201);

    await client.deliver(revocationConsumerName('diagnostics'), revoked('api_key', keyId, companyId));
    // The cache keeps an answer at most 250 ms.
    await new Promise((resolve) => setTimeout(resolve, 260));
    const refused = await probe(token);
    expect([refused.statusCode, refused.json().code]).toEqual([401, 'TOKEN_REVOKED']);
    expect((await probe(otherKey)).statusCode).toBe(201);
  });

  it('keeps a revocation in the shared table until its tokens have expired, then prunes it', async () => {
    const sid = randomUUID();
    await client.deliver(revocationConsumerName('diagnostics'), revoked('session', sid, randomUUID(), 1_000));
    const row = () =>
      service.db
        .selectFrom('revoked_principals')
        .selectAll()
        .where('principal_id', '=', sid)
        .executeTakeFirst();
    expect(await row()).toMatchObject({ kind: 'session' });
    await pruneRevocations(service.db, new Date());
    expect(await row()).toBeDefined();
    await pruneRevocations(service.db, new Date(Date.now() + 2_000));
    expect(await row()).toBeUndefined();
  });
});
