import {
  createCompanyMembersTable,
  idempotencyKeysMigration,
  type ServiceMigration,
} from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';

/** QC's tables; the kit's (outbox, inbox, dead letters) are migrated separately. */
export const qcMigrations: Record<string, ServiceMigration> = {
  '0001_qc': {
    async up(db: Kysely<unknown>) {
      // Tasks as tasks announced them: the input judges see, the golden answer QC checks against.
      await sql`
        create table tasks (
          id uuid primary key,
          campaign_id uuid not null,
          company_id uuid not null,
          task_type text not null,
          input jsonb not null,
          is_golden boolean not null,
          golden_answer jsonb,
          changed_at timestamptz not null
        )`.execute(db);

      // Who may judge: standing from identity and engagement (each with the time of its event, so
      // a late event never undoes a newer one), appointments by admins, and the judge's record.
      await sql`
        create table judges (
          user_id uuid primary key,
          role text,
          status text not null default 'active' check (status in ('active', 'suspended', 'erased')),
          level integer not null default 1,
          trust_score numeric(3, 1) not null default 5.0,
          appointed boolean not null default false,
          removed_at timestamptz,
          removed_reason text,
          correct integer not null default 0 check (correct >= 0),
          answered integer not null default 0 check (answered >= correct),
          honeypot_correct integer not null default 0,
          honeypot_answered integer not null default 0 check (honeypot_answered >= honeypot_correct),
          leases_taken integer not null default 0,
          identity_changed_at timestamptz,
          level_changed_at timestamptz,
          trust_changed_at timestamptz
        )`.execute(db);

      // One case per submission revision judged. votes_wanted grows by one while the verdict is
      // uncertain (dynamic overlap), up to max_judges; then the case escalates to an admin.
      await sql`
        create table cases (
          id uuid primary key,
          submission_id uuid not null,
          revision integer not null,
          assignment_id uuid not null,
          task_id uuid not null,
          campaign_id uuid not null,
          company_id uuid not null,
          contributor_id uuid not null,
          task_type text not null,
          judges_required integer not null check (judges_required > 0),
          max_judges integer not null check (max_judges >= judges_required),
          judge_fee_amount bigint not null check (judge_fee_amount >= 0),
          currency char(3) not null,
          is_golden boolean not null,
          answer jsonb,
          media jsonb not null,
          status text not null check (status in ('open', 'decided', 'escalated')),
          votes_wanted integer not null,
          verdict text check (verdict in ('approve', 'reject', 'revision')),
          method text check (method in ('consensus', 'golden', 'admin', 'appeal')),
          confidence double precision,
          quality_score double precision,
          reason_codes text[] not null default '{}',
          final_answer jsonb,
          answer_confidence double precision,
          honeypot_verdict text check (honeypot_verdict in ('approve', 'reject')),
          decided_by uuid,
          decision_reason text,
          submitted_at timestamptz not null,
          created_at timestamptz not null,
          decided_at timestamptz,
          unique (submission_id, revision)
        )`.execute(db);
      await sql`create index cases_open on cases (created_at, id) where status = 'open'`.execute(db);
      await sql`create index cases_escalated on cases (created_at, id) where status = 'escalated'`.execute(
        db,
      );
      await sql`create index cases_honeypots on cases (id) where honeypot_verdict is not null`.execute(db);
      await sql`create index cases_campaign on cases (campaign_id, created_at)`.execute(db);

      // A judge's review of a case: leased, then submitted, released or expired. A judge reviews a
      // case once, whatever happened to an earlier lease.
      await sql`
        create table reviews (
          id uuid primary key,
          case_id uuid not null references cases (id),
          judge_id uuid not null,
          kind text not null check (kind in ('consensus', 'honeypot')),
          status text not null check (status in ('leased', 'submitted', 'released', 'expired', 'discarded')),
          leased_at timestamptz not null,
          lease_expires_at timestamptz not null,
          submitted_at timestamptz,
          verdict text check (verdict in ('approve', 'reject', 'revision')),
          quality_score double precision,
          reason_codes text[] not null default '{}',
          answer jsonb,
          counted_at timestamptz,
          fee_amount bigint,
          unique (case_id, judge_id)
        )`.execute(db);
      await sql`create index reviews_live on reviews (case_id) where status in ('leased', 'submitted')`.execute(
        db,
      );
      await sql`create index reviews_judge on reviews (judge_id, leased_at desc)`.execute(db);
      await sql`create index reviews_leases on reviews (lease_expires_at) where status = 'leased'`.execute(
        db,
      );

      // Appeals submissions forwarded: an admin decides each, once.
      await sql`
        create table appeals (
          id uuid primary key,
          submission_id uuid not null,
          assignment_id uuid not null,
          campaign_id uuid not null,
          company_id uuid not null,
          contributor_id uuid not null,
          reason text not null,
          rejected_reason_codes text[] not null,
          status text not null check (status in ('open', 'decided')),
          decision text check (decision in ('approve', 'reject')),
          decided_by uuid,
          decision_reason text,
          filed_at timestamptz not null,
          decided_at timestamptz
        )`.execute(db);
      await sql`create index appeals_open on appeals (filed_at, id) where status = 'open'`.execute(db);

      // Golden tasks score the contributors who did them.
      await sql`
        create table contributor_golden (
          user_id uuid primary key,
          correct integer not null default 0,
          answered integer not null default 0
        )`.execute(db);

      await createCompanyMembersTable(db);
    },
  },
  '0002_idempotency_keys': idempotencyKeysMigration,
  '0003_waiting_submissions': {
    async up(db: Kysely<unknown>) {
      // Validated submissions whose task QC has not heard of yet: each opens its case when the
      // task's event arrives (`cases/handle.ts:taskKnown`), however long that takes.
      await sql`
        create table waiting_submissions (
          submission_id uuid not null,
          revision integer not null,
          task_id uuid not null,
          event jsonb not null,
          received_at timestamptz not null,
          primary key (submission_id, revision)
        )`.execute(db);
      await sql`create index waiting_submissions_task on waiting_submissions (task_id)`.execute(db);
    },
  },
  '0004_honeypot_leases_by_judge': {
    async up(db: Kysely<unknown>) {
      // Each lease reads the judge's latest honeypot lease (reviews/handle.ts:leaseNext): through this
      // index, not by walking the judge's whole history of reviews.
      await sql`
        create index reviews_judge_honeypots on reviews (judge_id, leased_at desc)
          where kind = 'honeypot'`.execute(db);
    },
  },
  '0005_judge_stats_as_of_day': {
    async up(db: Kysely<unknown>) {
      // A judge's own stats are as of the start of the current UTC day (quality/decide.ts
      // `judgeStatsAsOf`), so a honeypot scored at once does not show at once: the counters as they
      // stood when the day's first score came in, and that day.
      await sql`
        alter table judges
          add column record_day timestamptz,
          add column day_start_correct integer not null default 0,
          add column day_start_answered integer not null default 0,
          add column day_start_honeypot_correct integer not null default 0,
          add column day_start_honeypot_answered integer not null default 0`.execute(db);
    },
  },
  '0006_judge_restored': {
    async up(db: Kysely<unknown>) {
      // Restoring a removed judge starts the honeypot record the removal rule reads afresh: the
      // lifetime counters stay (history), these are what they were at the restoration.
      await sql`
        alter table judges
          add column restored_at timestamptz,
          add column restored_honeypot_correct integer not null default 0,
          add column restored_honeypot_answered integer not null default 0`.execute(db);
    },
  },
  '0007_appeal_decisions': {
    async up(db: Kysely<unknown>) {
      // An appeal's decision is kept with the appeal (which case it decided, the codes published);
      // the case keeps the verdict its judges or admin reached.
      await sql`
        alter table appeals
          add column case_id uuid references cases (id),
          add column decision_reason_codes text[]`.execute(db);
    },
  },
  '0008_case_escalation_by_wait': {
    async up(db: Kysely<unknown>) {
      // A case waiting in vain goes to the admin queue (cases/escalation.ts): how long it has waited
      // counts from its reopening by re-judging, if any; why it escalated is kept for the admins.
      await sql`
        alter table cases
          add column reopened_at timestamptz,
          add column escalated_reason text`.execute(db);
    },
  },
  '0009_honeypot_fees': {
    async up(db: Kysely<unknown>) {
      // A honeypot review is counted and paid like a real one, as long after it as a real case takes
      // to settle (reviews/honeypot-fees.ts): when, and whether it matched the known verdict. Null for
      // the honeypots submitted before: they were never paid, and are not paid now (a burst of old
      // honeypot fees at the upgrade would tell their judges which reviews they were).
      await sql`
        alter table reviews
          add column fee_due_at timestamptz,
          add column honeypot_agreed boolean`.execute(db);
    },
  },
  '0010_honeypot_fees_due_index': {
    // Built without blocking the reviews' writes; safe to run again after a failure half-way (a failed
    // concurrent build leaves an invalid index behind).
    transaction: false,
    async up(db: Kysely<unknown>) {
      // The honeypot-fees worker's scan (`payDueHoneypotFees`): the honeypot reviews not counted yet,
      // by when they fall due.
      await sql`drop index concurrently if exists reviews_honeypot_fees_due`.execute(db);
      await sql`
        create index concurrently reviews_honeypot_fees_due on reviews (fee_due_at)
          where kind = 'honeypot' and counted_at is null`.execute(db);
    },
  },
  '0011_reviews_counted_index': {
    transaction: false,
    async up(db: Kysely<unknown>) {
      // Each honeypot review samples the delay of one of the latest real settlements
      // (`honeypotFeeDueAt`): read through this index, not by walking every review.
      await sql`drop index concurrently if exists reviews_counted`.execute(db);
      await sql`
        create index concurrently reviews_counted on reviews (counted_at desc, submitted_at desc)
          where kind = 'consensus' and counted_at is not null`.execute(db);
    },
  },
};
