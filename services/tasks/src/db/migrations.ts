import { createCompanyMembersTable, idempotencyKeysMigration } from '@tessera/service-kit';
import { type Kysely, type Migration, sql } from 'kysely';

/** The tasks service's tables; the kit's (outbox, inbox, dead letters) are migrated separately. */
export const tasksMigrations: Record<string, Migration> = {
  '0001_tasks': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table campaigns (
          id uuid primary key,
          company_id uuid not null,
          name text not null,
          description text not null,
          currency char(3) not null,
          budget_amount bigint not null check (budget_amount > 0),
          target_count integer check (target_count > 0),
          start_at timestamptz,
          end_at timestamptz,
          is_private boolean not null default false,
          status text not null check (status in ('draft', 'funding', 'active', 'paused', 'completed', 'cancelled')),
          pause_reason text check (pause_reason in ('manual', 'budget_exhausted', 'target_reached')),
          last_funding_error jsonb,
          funded_amount bigint not null default 0,
          spent_amount bigint not null default 0,
          returned_amount bigint not null default 0,
          reserved_amount bigint not null default 0 check (reserved_amount >= 0),
          owed_amount bigint not null default 0,
          quota_taken integer not null default 0 check (quota_taken >= 0),
          received_count integer not null default 0,
          approved_count integer not null default 0,
          rejected_count integer not null default 0,
          close_event text check (close_event in ('completed', 'cancelled')),
          close_event_sent_at timestamptz,
          created_by uuid not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          check (end_at is null or start_at is null or end_at > start_at)
        )`.execute(db);
      await sql`create index campaigns_company on campaigns (company_id, created_at desc, id desc)`.execute(
        db,
      );
      await sql`create index campaigns_ending on campaigns (end_at) where status in ('active', 'paused', 'funding')`.execute(
        db,
      );
      await sql`create index campaigns_closing on campaigns (id) where close_event is not null and close_event_sent_at is null`.execute(
        db,
      );

      await sql`
        create table campaign_funding_requests (
          event_id uuid primary key,
          campaign_id uuid not null references campaigns (id),
          purpose text not null check (purpose in ('activation', 'top_up')),
          amount bigint not null check (amount > 0),
          currency char(3) not null,
          status text not null check (status in ('pending', 'funded', 'rejected')),
          created_at timestamptz not null default now(),
          answered_at timestamptz
        )`.execute(db);
      await sql`create index campaign_funding_requests_campaign on campaign_funding_requests (campaign_id)`.execute(
        db,
      );

      await sql`
        create table campaign_invitations (
          campaign_id uuid not null references campaigns (id),
          user_id uuid not null,
          invited_by uuid not null,
          created_at timestamptz not null default now(),
          primary key (campaign_id, user_id)
        )`.execute(db);

      await sql`
        create table tasks (
          id uuid primary key,
          campaign_id uuid not null references campaigns (id),
          company_id uuid not null,
          title text not null,
          description text not null,
          task_type text not null check (task_type in ('audio', 'image', 'text', 'validation', 'linguasense', 'rlhf')),
          input jsonb not null,
          is_golden boolean not null default false,
          golden_answer jsonb,
          difficulty text not null check (difficulty in ('easy', 'medium', 'hard')),
          reward_amount bigint not null check (reward_amount > 0),
          currency char(3) not null,
          xp_reward integer not null check (xp_reward >= 0),
          time_estimate text,
          max_submissions integer not null check (max_submissions > 0),
          judges_required integer not null check (judges_required > 0),
          min_trust_score numeric(3, 1) not null check (min_trust_score between 0 and 10),
          min_level integer not null check (min_level >= 1),
          required_languages text[] not null default '{}',
          regions text[] not null default '{}',
          is_priority boolean not null default false,
          claim_ttl_seconds integer not null check (claim_ttl_seconds > 0),
          deadline timestamptz,
          status text not null check (status in ('active', 'paused', 'completed', 'archived')),
          slots_taken integer not null default 0 check (slots_taken >= 0),
          submitted_count integer not null default 0,
          approved_count integer not null default 0,
          rejected_count integer not null default 0,
          priority_score double precision generated always as (
            (case when is_priority then 10 else 0 end)
            + (10 - slots_taken::double precision / max_submissions * 10)
            + reward_amount::double precision / 1000
          ) stored,
          created_by uuid not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      // The feed walks this index in score order and stops after a page of eligible tasks.
      await sql`create index tasks_feed on tasks (priority_score desc, id desc) where status = 'active'`.execute(
        db,
      );
      await sql`create index tasks_campaign on tasks (campaign_id, created_at desc, id desc)`.execute(db);

      await sql`
        create table assignments (
          id uuid primary key,
          task_id uuid not null references tasks (id),
          campaign_id uuid not null references campaigns (id),
          contributor_id uuid not null,
          status text not null check (status in ('active', 'submitted', 'approved', 'rejected', 'released', 'expired')),
          reward_amount bigint not null,
          currency char(3) not null,
          xp_reward integer not null,
          submission_id uuid unique,
          claimed_at timestamptz not null default now(),
          expires_at timestamptz not null,
          ended_at timestamptz,
          settled_at timestamptz
        )`.execute(db);
      // One live claim or submission per contributor and task; released and expired ones may be claimed again.
      await sql`
        create unique index assignments_one_per_contributor on assignments (task_id, contributor_id)
        where status not in ('released', 'expired')`.execute(db);
      await sql`create index assignments_contributor on assignments (contributor_id, claimed_at desc, id desc)`.execute(
        db,
      );
      await sql`create index assignments_expiry on assignments (expires_at) where status = 'active'`.execute(
        db,
      );

      await sql`
        create table contributors (
          user_id uuid primary key,
          role text,
          status text not null default 'active' check (status in ('active', 'suspended', 'erased')),
          country char(2),
          languages text[] not null default '{}',
          level integer not null default 1,
          trust_score numeric(3, 1) not null default 5.0,
          identity_changed_at timestamptz,
          level_changed_at timestamptz,
          trust_changed_at timestamptz
        )`.execute(db);

      await createCompanyMembersTable(db);
    },
  },
  '0002_idempotency_keys': idempotencyKeysMigration,
  '0004_feed_indexes': {
    async up(db: Kysely<unknown>) {
      // Every column the feed filters on rides along in its indexes (INCLUDE), so the walk in score
      // order is an index-only scan: it reads ~0.5 µs per skipped task instead of ~2.5 µs with a
      // heap visit, which is what a contributor who may do few tasks pays for. Same keys and
      // predicate as 0001's tasks_feed, which this replaces (one index to maintain, not two).
      const covered = sql.raw(
        'campaign_id, difficulty, reward_amount, min_level, min_trust_score, slots_taken, ' +
          'max_submissions, deadline, required_languages, regions',
      );
      await sql`drop index tasks_feed`.execute(db);
      await sql`
        create index tasks_feed on tasks (priority_score desc, id desc) include (task_type, ${covered})
        where status = 'active'`.execute(db);
      // The feed filtered by type walks only that type's active tasks.
      await sql`
        create index tasks_feed_type on tasks (task_type, priority_score desc, id desc) include (${covered})
        where status = 'active'`.execute(db);
      // Index-only scans skip the heap only on pages the visibility map marks all-visible; claims
      // update tasks all day, so vacuum them after 2% of rows changed rather than the default 20%.
      await sql`alter table tasks set (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`.execute(
        db,
      );
      // A contributor's invitations, looked up once per feed query (the primary key leads with the
      // campaign, so without this every feed query read every invitation).
      await sql`create index campaign_invitations_user on campaign_invitations (user_id, campaign_id)`.execute(
        db,
      );
    },
  },
  // Account status (suspended, reinstated, erased) gets its own event-time guard, so a late
  // profile update is not dropped because a newer suspension was seen, nor the reverse.
  '0005_claims_contributor_status_time': {
    async up(db: Kysely<unknown>) {
      await sql`alter table contributors add column status_changed_at timestamptz`.execute(db);
    },
  },
  // Judges are paid from the campaign's budget, so a claim holds its reward plus what judging it may
  // cost (`max_judges` fees), and the verdict frees what judging did not use (ADR 003).
  '0006_judge_fees': {
    async up(db: Kysely<unknown>) {
      await sql`alter table campaigns add column judge_fee_amount bigint not null default 0 check (judge_fee_amount >= 0)`.execute(
        db,
      );
      await sql`
        alter table tasks
          add column judge_fee_amount bigint not null default 0 check (judge_fee_amount >= 0),
          add column max_judges integer not null default 5 check (max_judges between 1 and 15),
          add constraint tasks_max_judges_covers_required check (max_judges >= judges_required)`.execute(db);
      // What one claim of the task holds: the feed and the campaign's automation compare it with
      // what the campaign can still promise.
      await sql`
        alter table tasks add column claim_hold_amount bigint
          generated always as (reward_amount + max_judges * judge_fee_amount) stored`.execute(db);
      await sql`
        alter table assignments
          add column judge_fee_amount bigint not null default 0,
          add column max_judges integer not null default 5,
          add column fee_hold_amount bigint not null default 0 check (fee_hold_amount >= 0),
          add column appeal_held boolean not null default false`.execute(db);
      const covered = sql.raw(
        'campaign_id, difficulty, reward_amount, claim_hold_amount, min_level, min_trust_score, slots_taken, ' +
          'max_submissions, deadline, required_languages, regions',
      );
      await sql`drop index tasks_feed`.execute(db);
      await sql`drop index tasks_feed_type`.execute(db);
      await sql`
        create index tasks_feed on tasks (priority_score desc, id desc) include (task_type, ${covered})
        where status = 'active'`.execute(db);
      await sql`
        create index tasks_feed_type on tasks (task_type, priority_score desc, id desc) include (${covered})
        where status = 'active'`.execute(db);
    },
  },
  // Every claim asks, under the campaign's lock, what its cheapest open task holds
  // (campaigns/repository.ts:cheapestOpenHold): walked in hold order, index only.
  '0007_tasks_open_by_hold': {
    async up(db: Kysely<unknown>) {
      await sql`
        create index tasks_open_by_hold on tasks (campaign_id, claim_hold_amount)
        include (slots_taken, max_submissions) where status = 'active'`.execute(db);
    },
  },
  // An appeal's decision is remembered, not only its hold: an appeal filed event handled after the
  // decision (a retry) must not hold the reward again, with nothing left to free it
  // (assignments/decide.ts:decideAppeal). An appeal still held stays held.
  '0008_assignments_appeal_state': {
    async up(db: Kysely<unknown>) {
      await sql`
        alter table assignments add column appeal_state text not null default 'none'
          check (appeal_state in ('none', 'held', 'decided'))`.execute(db);
      await sql`update assignments set appeal_state = 'held' where appeal_held`.execute(db);
      // `appeal_held` is no longer read or written; kept (with its default) so that an instance of
      // the older code still running during an upgrade can insert its claims. Drop it a release later.
    },
  },
  // Until when a rejection can be appealed (submissions' `appealable_until`, or 7 days from the
  // rejection for producers that predate it): a campaign does not announce its close before, so the
  // ledger keeps the reward an overturned appeal must pay (campaigns/money.ts:decideAutomation).
  // Rejections already recorded get 7 days from their rejection (those of the last 7 days; the rest
  // are past their window). The index serves the latest window
  // still to pass of a campaign's unappealed rejections, read with its facts under its lock.
  '0009_assignments_appealable_until': {
    async up(db: Kysely<unknown>) {
      await sql`alter table assignments add column appealable_until timestamptz`.execute(db);
      // Only the rejections whose window may still be open: older ones can no longer be appealed.
      await sql`
        update assignments set appealable_until = coalesce(settled_at, ended_at, claimed_at) + interval '7 days'
          where status = 'rejected'
            and coalesce(settled_at, ended_at, claimed_at) > now() - interval '7 days'`.execute(db);
      await sql`
        create index assignments_appealable on assignments (campaign_id, appealable_until)
          where status = 'rejected' and appeal_state = 'none'`.execute(db);
    },
  },
  // A verdict no longer frees the claim's unused fee hold at once: QC's fees for it come on another
  // stream and may be handled after the approval or rejection, and a hold freed before could be
  // promised again or returned with an ended campaign's escrow. It waits until `fee_hold_until`
  // (assignments/decide.ts:FEE_NEWS_GRACE_MS), then the expiry job frees what is left
  // (assignments/fee-holds.ts). Verdicts recorded before freed their holds: nothing to backfill.
  '0010_assignments_fee_hold_until': {
    async up(db: Kysely<unknown>) {
      await sql`alter table assignments add column fee_hold_until timestamptz`.execute(db);
      await sql`
        create index assignments_fee_hold_due on assignments (fee_hold_until, id)
          where fee_hold_amount > 0 and fee_hold_until is not null`.execute(db);
    },
  },
};
