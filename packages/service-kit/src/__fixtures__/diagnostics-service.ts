import { buildEvent } from '@tessera/contracts';
import { sql } from 'kysely';
import { z } from 'zod';
import type { KitTables } from '../db/kit-migrations.ts';
import { principalOf } from '../http/auth.ts';
import { appendToOutbox } from '../messaging/outbox.ts';
import type { ServiceDefinition } from '../service.ts';

export interface DiagnosticsDB extends KitTables {
  probes: { id: string; recorded_by: string };
  tallies: { probe_id: string; seen: number };
}

/** A minimal service built on the kit: a route that records, a consumer that tallies. */
export const diagnostics: ServiceDefinition<DiagnosticsDB> = {
  name: 'diagnostics',
  migrations: {
    '0001_probes': {
      async up(db) {
        await sql`create table probes (id text primary key, recorded_by text not null)`.execute(db);
        await sql`create table tallies (probe_id text primary key, seen int not null)`.execute(db);
      },
    },
  },
  routes(app, { db }) {
    app.post(
      '/api/v1/probes',
      {
        preHandler: app.authenticate,
        schema: {
          body: z.object({ id: z.string().min(1).max(100) }),
          response: { 201: z.object({ id: z.string() }) },
        },
      },
      async (request, reply) => {
        const { userId } = principalOf(request);
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('probes').values({ id: request.body.id, recorded_by: userId }).execute();
          const event = buildEvent(
            'diagnostics.probe.recorded.v1',
            { probe_id: request.body.id },
            { subject: request.body.id },
          );
          await appendToOutbox(trx, [event]);
        });
        return reply.code(201).send({ id: request.body.id });
      },
    );
  },
  consumers: () => [
    {
      name: 'diagnostics-tally',
      producer: 'diagnostics',
      handlers: {
        'diagnostics.probe.recorded.v1': async (event, trx) => {
          await trx
            .insertInto('tallies')
            .values({ probe_id: event.data.probe_id, seen: 1 })
            .onConflict((oc) => oc.column('probe_id').doUpdateSet({ seen: sql`tallies.seen + 1` }))
            .execute();
        },
      },
    },
  ],
};
