import { type ColumnType, type Kysely, type Migration, sql } from 'kysely';

/** The audit's own tables in the ledger's database. */
export interface AuditTables {
  audit_chain: {
    seq: number;
    event_id: string;
    /** The store's checkpoint of the event: where the sealer resumes. */
    checkpoint: string;
    hash: string;
    prev_hash: string;
  };
  audit_seals: {
    seq: number;
    hash: string;
    sealed_at: Date;
    key_id: string;
    signature: string;
  };
  audit_seal_keys: {
    key_id: string;
    /** SPKI PEM. */
    public_key: string;
    /** PKCS#8 PEM of a key generated outside production; null when the key comes from config. */
    private_key: string | null;
    created_at: ColumnType<Date, Date | undefined, never>;
  };
}

/** Merged by the service with the store's `0001_*` and the projections' `0100_*` migrations. */
export const auditMigrations: Record<string, Migration> = {
  '0200_audit_chain': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table audit_chain (
          seq bigint primary key check (seq > 0),
          event_id uuid not null unique,
          checkpoint text not null,
          hash text not null,
          prev_hash text not null
        )`.execute(db);
      await sql`
        create table audit_seal_keys (
          key_id text primary key,
          public_key text not null,
          private_key text,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table audit_seals (
          seq bigint primary key references audit_chain (seq),
          hash text not null,
          sealed_at timestamptz not null,
          key_id text not null references audit_seal_keys (key_id),
          signature text not null
        )`.execute(db);
    },
  },
};

/** Advisory lock keys (pg_advisory_xact_lock): one sealer at a time, one dev key ever generated. */
export const SEALER_LOCK = 7_214_530_201n;
export const SEAL_KEY_LOCK = 7_214_530_202n;
