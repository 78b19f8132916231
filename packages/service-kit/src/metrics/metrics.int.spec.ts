import { subjectFor } from '@tessera/contracts';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiagnosticsDB, diagnostics } from '../__fixtures__/diagnostics-service.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import { createTokenVerifier } from '../http/auth.ts';
import { createLogger } from '../logger.ts';
import { retryParkedItem } from '../parked-items.ts';
import { type RunningService, startService } from '../service.ts';
import { createTestIssuer, testServiceConfig, waitFor, waitForHandled } from '../testing/index.ts';

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

/** The value of one series in the Prometheus text `GET /metrics` serves (0 when absent). */
async function scrape(name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await service.app.inject({ url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const wanted = Object.entries({ ...labels, service: 'diagnostics' });
  for (const line of response.body.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (wanted.every(([key, value]) => have.get(key) === value)) return Number(match[3]);
  }
  return 0;
}

async function record(id: string): Promise<number> {
  const token = await issuer.token({ role: 'contributor' });
  const response = await service.app.inject({
    method: 'POST',
    url: '/api/v1/probes',
    headers: { authorization: `Bearer ${token}` },
    payload: { id },
  });
  return response.statusCode;
}

describe('the metrics a service on the kit serves', () => {
  it('times requests by route pattern and status, never by raw URL', async () => {
    const created = { method: 'POST', route: '/api/v1/probes', status_code: '201' };
    const before = await scrape('http_request_duration_seconds_count', created);
    expect(await record('m-1')).toBe(201);
    expect(await record('m-2')).toBe(201);
    expect(await record('x'.repeat(101))).toBe(400);
    await service.app.inject({ url: '/api/v1/nothing-here/123' });

    expect(await scrape('http_request_duration_seconds_count', created)).toBe(before + 2);
    expect(
      await scrape('http_request_duration_seconds_count', { ...created, status_code: '400' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await scrape('http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' }),
    ).toBeGreaterThanOrEqual(1);
    const text = (await service.app.inject({ url: '/metrics' })).body;
    expect(text).not.toContain('nothing-here');
  });

  it('counts what the relay published and what the consumer applied, and shows the outbox backlog', async () => {
    const tally = { consumer: 'diagnostics-tally' };
    // Settled first: everything committed so far was published and applied.
    await waitFor(
      async () =>
        (await scrape('tessera_outbox_backlog')) === 0 &&
        (await scrape('tessera_consumer_events_total', tally)) ===
          (await scrape('tessera_outbox_published_total')),
      { what: 'the earlier probes to be published and applied' },
    );
    const published = await scrape('tessera_outbox_published_total');
    const applied = await scrape('tessera_consumer_events_total', tally);
    await service.relay.stop();
    expect(await record('m-3')).toBe(201);
    // Committed and not yet published: the backlog is read at scrape time.
    expect(await scrape('tessera_outbox_backlog')).toBe(1);

    service.relay.start();
    const [row] = await service.db
      .selectFrom('outbox')
      .select('event_id')
      .where('subject', '=', 'm-3')
      .execute();
    await waitForHandled(service.db, 'diagnostics-tally', row!.event_id);
    expect(await scrape('tessera_outbox_backlog')).toBe(0);
    expect(await scrape('tessera_outbox_published_total')).toBe(published + 1);
    expect(await scrape('tessera_outbox_relay_wait_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(await scrape('tessera_consumer_events_total', tally)).toBe(applied + 1);
    expect(await scrape('tessera_consumer_pending_messages', tally)).toBe(0);
  });

  it('counts a dead letter by its reason, and shows it open until it is dismissed', async () => {
    const labels = { consumer: 'diagnostics-tally', code: 'MALFORMED_JSON' };
    const before = await scrape('tessera_consumer_dead_letters_total', labels);
    const openBefore = await scrape('tessera_dead_letters_open');
    await service.bus.js.publish(subjectFor('diagnostics.probe.recorded.v1', service.bus.ns), '{not json');
    await waitFor(async () => (await scrape('tessera_consumer_dead_letters_total', labels)) === before + 1, {
      what: 'the dead letter to be counted',
    });
    expect(await scrape('tessera_dead_letters_open')).toBe(openBefore + 1);

    const admin = await issuer.token({ role: 'admin' });
    const [letter] = await service.db
      .selectFrom('dead_letters')
      .select('id')
      .where('payload', '=', '{not json')
      .where('dismissed_at', 'is', null)
      .execute();
    const dismissed = await service.app.inject({
      method: 'POST',
      url: `/api/v1/admin/diagnostics/dead-letters/${letter!.id}/dismiss`,
      headers: { authorization: `Bearer ${admin}` },
      payload: { reason: 'a probe sent malformed on purpose' },
    });
    expect(dismissed.statusCode).toBe(200);
    expect(await scrape('tessera_dead_letters_open')).toBe(openBefore);
  });

  it("asks the server for a consumer's lag at each scrape, so a consumer that stopped receiving shows it", async () => {
    const tally = { consumer: 'diagnostics-tally' };
    const consumer = service.consumers.find((c) => c.name === 'diagnostics-tally')!;
    await waitFor(async () => (await scrape('tessera_consumer_pending_messages', tally)) === 0, {
      what: 'the tally consumer to have taken everything',
    });
    await consumer.stop();
    try {
      expect(await record('lag-1')).toBe(201);
      expect(await record('lag-2')).toBe(201);
      // Nothing is delivered to it any more: only the server can tell.
      await waitFor(async () => (await scrape('tessera_consumer_pending_messages', tally)) >= 2, {
        what: 'the stopped consumer to show the two events waiting for it',
      });
    } finally {
      await consumer.start();
    }
    await waitFor(async () => (await scrape('tessera_consumer_pending_messages', tally)) === 0, {
      what: 'the restarted consumer to take them',
    });
  });

  it('shows the job items parked now, gone once retried', async () => {
    const parked = { job: 'probe-job', item: crypto.randomUUID(), failures: 5, error: 'boom' };
    const before = await scrape('tessera_job_items_parked');
    const now = new Date();
    await service.db
      .insertInto('job_item_failures')
      .values([
        { ...parked, first_failed_at: now, last_failed_at: now, parked_at: now },
        // Failing, not yet parked: not counted.
        {
          ...parked,
          item: crypto.randomUUID(),
          failures: 2,
          first_failed_at: now,
          last_failed_at: now,
          parked_at: null,
        },
      ])
      .execute();
    expect(await scrape('tessera_job_items_parked')).toBe(before + 1);
    await retryParkedItem(service.db as unknown as Kysely<KitTables>, parked.job, parked.item);
    expect(await scrape('tessera_job_items_parked')).toBe(before);
  });
});
