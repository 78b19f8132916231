import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceConfig } from './config.ts';
import { idempotencyKeysMigration } from './db/idempotency.ts';
import type { KitTables } from './db/kit-migrations.ts';
import { pruneKitTables } from './db/prune.ts';
import { createLogger } from './logger.ts';
import { KIT_PRUNE_WORKER, type ServiceDefinition, startService } from './service.ts';
import { testServiceConfig } from './testing/index.ts';

const logger = createLogger({ name: 'lifecycle', level: 'silent', pretty: false });
let config: ServiceConfig;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ config, drop } = await testServiceConfig('lifecycle'));
});
afterAll(() => drop?.());

/** A definition that records, in order, what the kit did with its resource and workers. */
function recording(
  steps: string[],
  options: { failIn?: string } = {},
): ServiceDefinition<KitTables, ServiceConfig, { label: string }> {
  return {
    name: 'lifecycle',
    migrations: { '0001_idempotency_keys': idempotencyKeysMigration },
    resources: {
      open: () => {
        steps.push('open resource');
        return { label: 'the resource' };
      },
      close: async () => {
        steps.push('close resource');
      },
    },
    routes: (app, { resources }) => {
      steps.push(`routes see ${resources.label}`);
      app.get('/ping', async () => ({ ok: true }));
    },
    workers: ({ resources }) =>
      ['first', 'second'].map((name) => ({
        name,
        start() {
          if (options.failIn === name) throw new Error(`${name} cannot start`);
          steps.push(`start ${name} with ${resources.label}`);
          return {
            stop: async () => {
              steps.push(`stop ${name}`);
            },
          };
        },
      })),
  };
}

describe('the kit lifecycle', () => {
  it('opens the resources, registers routes, starts workers; stops them in reverse, the resources last', async () => {
    const steps: string[] = [];
    const service = await startService(recording(steps), config, { logger });
    expect([...service.workers.keys()]).toEqual([KIT_PRUNE_WORKER, 'first', 'second']);
    expect((await service.app.inject({ url: '/ping' })).json()).toEqual({ ok: true });
    await service.stop();
    expect(steps).toEqual([
      'open resource',
      'routes see the resource',
      'start first with the resource',
      'start second with the resource',
      'stop second',
      'stop first',
      'close resource',
    ]);
    await service.stop(); // a second stop is the same stop, not an error
  });

  it('leaves out the workers a caller switches off by name', async () => {
    const steps: string[] = [];
    const service = await startService(recording(steps), config, {
      logger,
      workers: { first: false, [KIT_PRUNE_WORKER]: false },
    });
    await service.stop();
    expect([...service.workers.keys()]).toEqual(['second']);
    expect(steps.filter((step) => step.startsWith('start'))).toEqual(['start second with the resource']);
  });

  it('stops what it started when a worker fails to start, and reports the failure', async () => {
    const steps: string[] = [];
    await expect(startService(recording(steps, { failIn: 'second' }), config, { logger })).rejects.toThrow(
      'second cannot start',
    );
    expect(steps.slice(-2)).toEqual(['stop first', 'close resource']);
  });
});

describe('pruneKitTables', () => {
  it('deletes published outbox rows, inbox rows, idempotency keys and unparked job failures past their retention, nothing else', async () => {
    const service = await startService(recording([]), config, {
      logger,
      workers: { [KIT_PRUNE_WORKER]: false },
    });
    const { db } = service;
    try {
      const now = new Date('2026-06-01T00:00:00Z');
      const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
      const outbox = (id: string, createdAt: Date, publishedAt: Date | null) =>
        sql`insert into outbox (event_id, type, subject, payload, created_at, published_at)
            values (${id}, 'x.y.z.v1', 's', '{}', ${createdAt}, ${publishedAt})`.execute(db);
      await outbox('00000000-0000-4000-8000-000000000001', daysAgo(30), daysAgo(30)); // old, sent: goes
      await outbox('00000000-0000-4000-8000-000000000002', daysAgo(30), null); // old, never sent: stays
      await outbox('00000000-0000-4000-8000-000000000003', daysAgo(1), daysAgo(1)); // recent: stays
      const inbox = (id: string, handledAt: Date) =>
        sql`insert into inbox (consumer, event_id, type, handled_at) values ('c', ${id}, 't', ${handledAt})`.execute(
          db,
        );
      await inbox('00000000-0000-4000-8000-000000000011', daysAgo(100));
      await inbox('00000000-0000-4000-8000-000000000012', daysAgo(10));
      const key = (k: string, createdAt: Date) =>
        sql`insert into idempotency_keys values ('p', 'op', ${k}, 'h', 200, '{}', ${createdAt})`.execute(db);
      await key('old', daysAgo(2));
      await key('new', new Date(now.getTime() - 3_600_000));
      const failure = (item: string, lastFailed: Date, parked: Date | null) =>
        sql`insert into job_item_failures values ('j', ${item}, 1, 'e', ${lastFailed}, ${lastFailed}, ${parked})`.execute(
          db,
        );
      await failure('old', daysAgo(100), null); // failed long ago, never parked: goes
      await failure('parked', daysAgo(100), daysAgo(100)); // waits for an operator: stays
      await failure('recent', daysAgo(1), null); // may fail again: stays

      const deleted = await pruneKitTables(db, now, {
        outboxMs: 7 * 86_400_000,
        inboxMs: 90 * 86_400_000,
        idempotencyKeysMs: 86_400_000,
      });

      expect(deleted).toBe(4);
      const left = async (table: string, column: string) =>
        (
          await sql<{
            v: string;
          }>`select ${sql.ref(column)}::text as v from ${sql.table(table)} order by 1`.execute(db)
        ).rows.map((row) => row.v);
      expect(await left('outbox', 'event_id')).toEqual([
        '00000000-0000-4000-8000-000000000002',
        '00000000-0000-4000-8000-000000000003',
      ]);
      expect(await left('inbox', 'event_id')).toEqual(['00000000-0000-4000-8000-000000000012']);
      expect(await left('idempotency_keys', 'key')).toEqual(['new']);
      expect(await left('job_item_failures', 'item')).toEqual(['parked', 'recent']);
    } finally {
      await service.stop();
    }
  });
});
