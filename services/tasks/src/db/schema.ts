import type { TaskDifficulty, TaskType } from '@tessera/contracts';
import type { CompanyMembersTable, IdempotencyKeysTable, KitTables } from '@tessera/service-kit';
import type { ColumnType, Generated } from 'kysely';
// The statuses are the domain's (each capability's decide.ts): the tables store them as they are.
import type { AppealState, AssignmentStatus } from '../assignments/decide.ts';
import type { CampaignPauseReason, CampaignStatus } from '../campaigns/decide.ts';
import type { TaskStatus } from '../task-catalog/decide.ts';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** bigint columns: the kit makes pg parse int8 as numbers (amounts stay below 2^53); writes take either. */
type Amount = ColumnType<number, number | bigint | string | undefined, number | bigint | string>;
type Json<T> = ColumnType<T, string, string>;

/**
 * A company's campaign. Its money is tracked as order-independent sums of what the ledger and
 * submissions reported (funded, spent, returned) and of what claims hold (reserved: rewards of
 * open claims and of submissions under review; owed: approved rewards the ledger has not paid yet).
 * What a new claim may still promise is `funded - spent - returned - reserved - owed`.
 */
export interface CampaignsTable {
  id: string;
  company_id: string;
  name: string;
  description: string;
  currency: string;
  /** The budget asked for at activation (and raised by top-ups); what the ledger moved is `funded`. */
  budget_amount: Amount;
  target_count: number | null;
  start_at: NullableTimestamp;
  end_at: NullableTimestamp;
  is_private: Generated<boolean>;
  status: CampaignStatus;
  pause_reason: CampaignPauseReason | null;
  /** `{code, detail, at}` of the last funding request the ledger refused. */
  last_funding_error: Json<{ code: string; detail: string; at: string } | null> | null;
  funded_amount: Amount;
  spent_amount: Amount;
  returned_amount: Amount;
  reserved_amount: Amount;
  owed_amount: Amount;
  /** The judge fee of tasks that do not set their own. */
  judge_fee_amount: Amount;
  /** Open claims + submissions under review + approved submissions: what counts toward target_count. */
  quota_taken: Generated<number>;
  received_count: Generated<number>;
  approved_count: Generated<number>;
  rejected_count: Generated<number>;
  /**
   * Set when the campaign completed or was cancelled: the event that returns the budget waits
   * until no claim or unpaid approval is left, so work already promised is always paid.
   */
  close_event: 'completed' | 'cancelled' | null;
  close_event_sent_at: NullableTimestamp;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Each funding request tasks sent to the ledger; the answer's causation id finds it. */
export interface CampaignFundingRequestsTable {
  event_id: string;
  campaign_id: string;
  purpose: 'activation' | 'top_up';
  amount: Amount;
  currency: string;
  status: 'pending' | 'funded' | 'rejected';
  created_at: Timestamp;
  answered_at: NullableTimestamp;
}

/** Contributors invited to a private campaign: only they see and claim its tasks. */
export interface CampaignInvitationsTable {
  campaign_id: string;
  user_id: string;
  invited_by: string;
  created_at: Timestamp;
}

export interface TasksTable {
  id: string;
  campaign_id: string;
  company_id: string;
  title: string;
  description: string;
  task_type: TaskType;
  input: Json<Record<string, unknown>>;
  is_golden: Generated<boolean>;
  /** Never shown to contributors; QC reads it from the published event. */
  golden_answer: Json<Record<string, unknown> | null> | null;
  difficulty: TaskDifficulty;
  reward_amount: Amount;
  currency: string;
  xp_reward: number;
  time_estimate: string | null;
  max_submissions: number;
  judges_required: number;
  /** What each review counted toward a verdict earns its judge, in the task's currency. */
  judge_fee_amount: Amount;
  /** The most judges QC may ask (dynamic overlap) before it escalates. */
  max_judges: Generated<number>;
  /** reward + max_judges × judge_fee: what one claim holds of the campaign's budget (Postgres keeps it). */
  claim_hold_amount: ColumnType<number, never, never>;
  /** One decimal, 0 to 10 (numeric(3,1): pg returns a string). */
  min_trust_score: ColumnType<string, number | string, number | string>;
  min_level: number;
  required_languages: ColumnType<string[], string[] | undefined, string[]>;
  regions: ColumnType<string[], string[] | undefined, string[]>;
  is_priority: Generated<boolean>;
  claim_ttl_seconds: number;
  deadline: NullableTimestamp;
  status: TaskStatus;
  /** Open claims + submissions not rejected: never above max_submissions. */
  slots_taken: Generated<number>;
  submitted_count: Generated<number>;
  approved_count: Generated<number>;
  rejected_count: Generated<number>;
  /** The seed's feed score, kept by Postgres from is_priority, slots_taken and reward. */
  priority_score: ColumnType<number, never, never>;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AssignmentsTable {
  id: string;
  task_id: string;
  campaign_id: string;
  contributor_id: string;
  status: AssignmentStatus;
  /** Fixed at claim time: what the contributor was promised. */
  reward_amount: Amount;
  currency: string;
  xp_reward: number;
  /** Fixed at claim time with the reward: each counted review's fee, and how many judges at most. */
  judge_fee_amount: Amount;
  max_judges: Generated<number>;
  /**
   * What the claim still holds for judge fees: max_judges × judge_fee at claim, less fees earned. It
   * outlives the verdict until `fee_hold_until` (the verdict's fees' time to arrive), then it is
   * freed (assignments/fee-holds.ts); 0 for a claim that ended without a verdict.
   */
  fee_hold_amount: Amount;
  /** Set at the verdict while the claim holds fees: when what is left of the hold is freed. */
  fee_hold_until: NullableTimestamp;
  /**
   * A rejection's appeal: `held` while it is open (its reward held again), `decided` once decided
   * (or the rejection overturned), so an appeal seen late holds nothing (decide.ts `decideAppeal`).
   */
  appeal_state: Generated<AppealState>;
  /**
   * A rejection's: until when it can be appealed (submissions' `appealable_until`). An ended
   * campaign does not announce its close before, unless the appeal was already filed
   * (campaigns/money.ts `decideAutomation`).
   */
  appealable_until: NullableTimestamp;
  submission_id: string | null;
  claimed_at: Timestamp;
  expires_at: Timestamp;
  /** When it left `active` (submitted, released, expired). */
  ended_at: NullableTimestamp;
  /** When it reached its last state (approved, rejected, released, expired). */
  settled_at: NullableTimestamp;
}

/**
 * What eligibility needs about a user, from identity (role, status, country, languages) and
 * engagement (level, trust score). Each source keeps the time of the event it reflects, so an
 * older event handled late never overwrites a newer one.
 */
export interface ContributorsTable {
  user_id: string;
  role: string | null;
  status: 'active' | 'suspended' | 'erased';
  country: string | null;
  languages: ColumnType<string[], string[] | undefined, string[]>;
  level: number;
  trust_score: ColumnType<string, number | string, number | string>;
  /** Time of the identity event behind role, country and languages. */
  identity_changed_at: NullableTimestamp;
  /** Time of the identity event behind status (suspended, reinstated, erased). */
  status_changed_at: NullableTimestamp;
  level_changed_at: NullableTimestamp;
  trust_changed_at: NullableTimestamp;
}

export interface TasksDB extends KitTables {
  campaigns: CampaignsTable;
  campaign_funding_requests: CampaignFundingRequestsTable;
  campaign_invitations: CampaignInvitationsTable;
  tasks: TasksTable;
  assignments: AssignmentsTable;
  contributors: ContributorsTable;
  company_members: CompanyMembersTable;
  idempotency_keys: IdempotencyKeysTable;
}
