import { type ColumnType, type Kysely, sql } from 'kysely';
import type { HandlerMap } from '../messaging/consumer.ts';

/**
 * Who belongs to which company, from identity's member events: the read model every service that
 * authorises company users keeps. Removals stay as tombstones and every row remembers the time of
 * the event it reflects, so an event handled late (after a retry) never undoes a newer one.
 * The service creates the table in one of its migrations with `createCompanyMembersTable`.
 */
export interface CompanyMembersTable {
  company_id: string;
  user_id: string;
  member_role: string | null;
  removed: boolean;
  /** The time of the identity event this row reflects: an older event never overwrites it. */
  changed_at: ColumnType<Date, Date | string, Date | string>;
}

// Any database holding the table: kysely cannot type "at least these tables" for writes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WithMembers = Kysely<any>;

export function companyMemberHandlers<DB>(): HandlerMap<DB> {
  return {
    'identity.company.member-added.v1': async (event, trx) => {
      await setMembership(trx, {
        company_id: event.data.company_id,
        user_id: event.data.user_id,
        member_role: event.data.member_role,
        removed: false,
        changed_at: event.time,
      });
    },
    'identity.company.member-removed.v1': async (event, trx) => {
      await setMembership(trx, {
        company_id: event.data.company_id,
        user_id: event.data.user_id,
        member_role: null,
        removed: true,
        changed_at: event.time,
      });
    },
  };
}

async function setMembership(
  trx: WithMembers,
  row: {
    company_id: string;
    user_id: string;
    member_role: string | null;
    removed: boolean;
    changed_at: string;
  },
): Promise<void> {
  await (trx as Kysely<{ company_members: CompanyMembersTable }>)
    .insertInto('company_members')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['company_id', 'user_id'])
        .doUpdateSet((eb) => ({
          member_role: eb.ref('excluded.member_role'),
          removed: eb.ref('excluded.removed'),
          changed_at: eb.ref('excluded.changed_at'),
        }))
        .whereRef('company_members.changed_at', '<=', 'excluded.changed_at'),
    )
    .execute();
}

/** The member role of `userId` in `companyId`, or null when not a current member. */
export async function companyMemberRole(
  db: WithMembers,
  companyId: string,
  userId: string,
): Promise<string | null> {
  const row = await (db as Kysely<{ company_members: CompanyMembersTable }>)
    .selectFrom('company_members')
    .select('member_role')
    .where('company_id', '=', companyId)
    .where('user_id', '=', userId)
    .where('removed', '=', false)
    .executeTakeFirst();
  return row ? (row.member_role ?? null) : null;
}

/** Whether `userId` is a current member of `companyId`, and in which role. */
export async function findCompanyMembership(
  db: WithMembers,
  companyId: string,
  userId: string,
): Promise<{ role: string | null } | null> {
  const row = await (db as Kysely<{ company_members: CompanyMembersTable }>)
    .selectFrom('company_members')
    .select('member_role')
    .where('company_id', '=', companyId)
    .where('user_id', '=', userId)
    .where('removed', '=', false)
    .executeTakeFirst();
  return row ? { role: row.member_role } : null;
}

/** The read model's table, for a service's own migration. */
export async function createCompanyMembersTable(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table company_members (
      company_id uuid not null,
      user_id uuid not null,
      member_role text,
      removed boolean not null,
      changed_at timestamptz not null,
      primary key (company_id, user_id)
    )`.execute(db);
  await sql`create index company_members_user on company_members (user_id) where not removed`.execute(db);
}
