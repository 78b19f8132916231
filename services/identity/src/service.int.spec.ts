import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentity, type TestIdentity } from './testing/harness.ts';

let t: TestIdentity;
beforeAll(async () => {
  t = await startIdentity();
});
afterAll(async () => t?.stop());

describe('the identity service', () => {
  it('is healthy and ready', async () => {
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', nats: 'ok' },
    });
  });

  it('documents every route in its OpenAPI document', async () => {
    const response = await t.app.inject({ url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json().paths as object).sort();
    expect(paths).toEqual(
      [
        '/.well-known/jwks.json',
        '/api/v1/admin/identity/signing-keys',
        '/api/v1/admin/identity/signing-keys/rotate',
        '/api/v1/admin/users',
        '/api/v1/admin/users/{id}',
        '/api/v1/admin/users/{id}/status',
        '/api/v1/companies',
        '/api/v1/companies/{id}',
        '/api/v1/companies/{id}/api-keys',
        '/api/v1/companies/{id}/api-keys/{keyId}',
        '/api/v1/companies/{id}/invitations',
        '/api/v1/companies/{id}/invitations/{invitationId}',
        '/api/v1/companies/{id}/members',
        '/api/v1/companies/{id}/members/{userId}',
        '/api/v1/invitations/accept',
        '/api/v1/users/me',
        '/auth/forgot-password',
        '/auth/login',
        '/auth/logout',
        '/auth/refresh',
        '/auth/resend-otp',
        '/auth/reset-password',
        '/auth/signup',
        '/auth/token',
        '/auth/verify-email',
        '/dev/mailbox',
      ].sort(),
    );
  });

  it('answers an unknown route with problem+json', async () => {
    const response = await t.app.inject({ url: '/api/v1/users/nobody' });
    expect([response.statusCode, response.json().code]).toEqual([404, 'NOT_FOUND']);
  });
});
