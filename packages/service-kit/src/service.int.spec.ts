import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiagnosticsDB, diagnostics } from './__fixtures__/diagnostics-service.ts';
import { createTokenVerifier } from './http/auth.ts';
import { createLogger } from './logger.ts';
import { type RunningService, startService } from './service.ts';
import { createTestIssuer, readStream, testServiceConfig, waitForHandled } from './testing/index.ts';

let service: RunningService<DiagnosticsDB>;
let drop: () => Promise<void>;
let issuer: Awaited<ReturnType<typeof createTestIssuer>>;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const test = await testServiceConfig('diagnostics');
  drop = test.drop;
  service = await startService(diagnostics, test.config, {
    logger: createLogger({ name: 'diagnostics', level: 'silent', pretty: false }),
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
    relayPollIntervalMs: 50,
  });
});

afterAll(async () => {
  await service?.stop();
  await drop?.();
});

describe('a service on the kit', () => {
  it('is ready once its store and NATS answer', async () => {
    const response = await service.app.inject({ url: '/readyz' });
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', nats: 'ok' } });
  });

  it('carries a state change from an HTTP request through outbox, relay and NATS to a consumer, once', async () => {
    const token = await issuer.token({ role: 'contributor' });
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/v1/probes',
      headers: { authorization: `Bearer ${token}` },
      payload: { id: 'probe-1' },
    });
    expect(response.statusCode).toBe(201);

    const [published] = await service.db.selectFrom('outbox').select('event_id').execute();
    await waitForHandled(service.db, 'diagnostics-tally', published!.event_id);
    const tally = await service.db.selectFrom('tallies').selectAll().execute();
    expect(tally).toEqual([{ probe_id: 'probe-1', seen: 1 }]);

    const stream = await readStream(service.bus, 'diagnostics');
    expect(stream).toHaveLength(1);
    expect(stream[0]!.data).toMatchObject({
      id: published!.event_id,
      type: 'diagnostics.probe.recorded.v1',
      source: 'diagnostics',
      subject: 'probe-1',
    });
  });

  it('stores nothing and publishes nothing for a bad request', async () => {
    const token = await issuer.token();
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/v1/probes',
      headers: { authorization: `Bearer ${token}` },
      payload: { id: 'x'.repeat(101) },
    });
    expect([response.statusCode, response.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await service.db.selectFrom('outbox').select('event_id').execute()).toHaveLength(1);
  });
});
