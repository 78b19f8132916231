import type { HttpApp } from '@tessera/service-kit';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Identity } from '../runtime.ts';
import { email } from './schemas.ts';

/** Outside production only: the mail identity "sent", so a person or a test can follow every flow. */
export function registerDevMailboxRoute(app: HttpApp, identity: Identity): void {
  app.get(
    '/dev/mailbox',
    {
      schema: {
        tags: ['development'],
        summary: 'Mail sent to an address (development only; absent in production)',
        querystring: z.strictObject({ to: email }),
        response: {
          200: z.object({
            messages: z.array(
              z.object({
                id: z.number(),
                to: z.string(),
                subject: z.string(),
                text: z.string(),
                kind: z.string(),
                created_at: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const rows = await identity.db
        .selectFrom('dev_mailbox')
        .selectAll()
        .where(sql<string>`lower(recipient)`, '=', request.query.to.toLowerCase())
        .orderBy('id', 'desc')
        .limit(50)
        .execute();
      return {
        messages: rows.map((row) => ({
          id: row.id,
          to: row.recipient,
          subject: row.subject,
          text: row.body,
          kind: row.kind,
          created_at: row.created_at.toISOString(),
        })),
      };
    },
  );
}
