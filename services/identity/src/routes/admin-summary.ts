import { type HttpApp, registerAdminSummary } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { IdentityDB } from '../db/schema.ts';

export const identitySummarySchema = z.object({
  users: z.object({
    active: z.number().int(),
    suspended: z.number().int(),
    erased: z.number().int(),
    /** Logged in within the last 30 days. */
    active_last_30_days: z.number().int(),
  }),
  companies: z.number().int(),
});

/** Identity's figures of the admin dashboard (the gateway composes them). */
export function registerIdentitySummary(app: HttpApp, db: Kysely<IdentityDB>, now: () => Date): void {
  registerAdminSummary(app, identitySummarySchema, async () => {
    const since = new Date(now().getTime() - 30 * 86_400_000);
    const users = await db
      .selectFrom('users')
      .select([
        sql<number>`count(*) filter (where status = 'active')::int`.as('active'),
        sql<number>`count(*) filter (where status = 'suspended')::int`.as('suspended'),
        sql<number>`count(*) filter (where status = 'erased')::int`.as('erased'),
        sql<number>`count(*) filter (where status = 'active' and last_login_at > ${since})::int`.as('recent'),
      ])
      .executeTakeFirstOrThrow();
    const companies = await db
      .selectFrom('companies')
      .select(sql<number>`count(*)::int`.as('count'))
      .executeTakeFirstOrThrow();
    return {
      users: {
        active: users.active,
        suspended: users.suspended,
        erased: users.erased,
        active_last_30_days: users.recent,
      },
      companies: companies.count,
    };
  });
}
