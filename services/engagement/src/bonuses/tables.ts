import { type ColumnType, type Kysely, type Migration, sql } from 'kysely';

/**
 * A money bonus (`engagement.bonus.awarded.v1`) earned while its user was suspended: held, not
 * published, until identity reinstates them (then published as built) or erases them (then dropped).
 */
export interface HeldBonusesTable {
  /** The held event's id. */
  event_id: string;
  /** The bonus id (derived: the ledger's idempotency key), one hold each. */
  bonus_id: string;
  user_id: string;
  /** The whole event, as it will be published. */
  event: ColumnType<unknown, string, string>;
  held_at: ColumnType<Date, Date, Date>;
}

export interface BonusTables {
  held_bonuses: HeldBonusesTable;
}

export const bonusesMigrations: Record<string, Migration> = {
  '0920_held_bonuses': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table held_bonuses (
          event_id uuid primary key,
          bonus_id uuid not null unique,
          user_id uuid not null,
          event jsonb not null,
          held_at timestamptz not null
        )`.execute(db);
      await sql`create index held_bonuses_user on held_bonuses (user_id, held_at)`.execute(db);
    },
  },
};
