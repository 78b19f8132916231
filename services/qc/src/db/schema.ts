import type { CompanyMembersTable, IdempotencyKeysTable, KitTables } from '@tessera/service-kit';
import type { ColumnType, Generated } from 'kysely';
import type { EscalatedReason } from '../cases/decide.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;
/** bigint columns: the kit makes pg parse int8 as numbers (amounts stay below 2^53). */
type Amount = ColumnType<number, number | string, number | string>;

export type VerdictValue = 'approve' | 'reject' | 'revision';
export type VerdictMethod = 'consensus' | 'golden' | 'admin' | 'appeal';

export interface TasksTable {
  id: string;
  campaign_id: string;
  company_id: string;
  task_type: string;
  input: Json<Record<string, unknown>>;
  is_golden: boolean;
  golden_answer: Json<Record<string, unknown> | null> | null;
  changed_at: Timestamp;
}

export interface JudgesTable {
  user_id: string;
  role: string | null;
  status: Generated<'active' | 'suspended' | 'erased'>;
  level: Generated<number>;
  /** numeric(3,1): pg returns a string. */
  trust_score: ColumnType<string, number | string | undefined, number | string>;
  appointed: Generated<boolean>;
  removed_at: NullableTimestamp;
  removed_reason: string | null;
  /** Honeypots and agreement with settled verdicts: the one-coin accuracy's evidence. */
  correct: Generated<number>;
  answered: Generated<number>;
  honeypot_correct: Generated<number>;
  honeypot_answered: Generated<number>;
  /**
   * No longer read or written: honeypot turns were every n-th lease, now drawn at random
   * (reviews/decide.ts `decideHoneypotTurn`). Kept so that an instance of the older code still
   * running during an upgrade finds it.
   */
  leases_taken: Generated<number>;
  identity_changed_at: NullableTimestamp;
  level_changed_at: NullableTimestamp;
  trust_changed_at: NullableTimestamp;
  /**
   * The UTC day (its start) of the judge's latest score, and the record as it stood at that day's
   * start: what the judge sees of their own record that day (quality/decide.ts `judgeStatsAsOf`).
   */
  record_day: NullableTimestamp;
  day_start_correct: Generated<number>;
  day_start_answered: Generated<number>;
  day_start_honeypot_correct: Generated<number>;
  day_start_honeypot_answered: Generated<number>;
  /** When an admin last restored the judge after a removal, and their honeypot counters then. */
  restored_at: NullableTimestamp;
  restored_honeypot_correct: Generated<number>;
  restored_honeypot_answered: Generated<number>;
}

export interface CasesTable {
  id: string;
  submission_id: string;
  revision: number;
  assignment_id: string;
  task_id: string;
  campaign_id: string;
  company_id: string;
  contributor_id: string;
  task_type: string;
  judges_required: number;
  max_judges: number;
  judge_fee_amount: Amount;
  currency: string;
  is_golden: boolean;
  /** The contributor's structured answer (option, labels, preference), when the type has one. */
  answer: Json<Record<string, unknown> | null> | null;
  media: Json<{ media_id: string; kind: string; sha256: string }[]>;
  status: 'open' | 'decided' | 'escalated';
  votes_wanted: number;
  verdict: VerdictValue | null;
  method: VerdictMethod | null;
  confidence: number | null;
  quality_score: number | null;
  reason_codes: ColumnType<string[], string[] | undefined, string[]>;
  final_answer: Json<Record<string, unknown> | null> | null;
  answer_confidence: number | null;
  /** Set by an admin on a settled case: it may serve as a honeypot with this known verdict. */
  honeypot_verdict: 'approve' | 'reject' | null;
  /** An admin's decision of an escalated case: who, and why in their words. */
  decided_by: ColumnType<string | null, string | null | undefined, string | null>;
  decision_reason: ColumnType<string | null, string | null | undefined, string | null>;
  submitted_at: Timestamp;
  created_at: Timestamp;
  decided_at: NullableTimestamp;
  /** When re-judging last put the case back in the pool (its wait counts from then). */
  reopened_at: NullableTimestamp;
  /**
   * Why the case went to the admin queue: `NO_CONSENSUS` (the judges split at max_judges),
   * `NO_ELIGIBLE_JUDGES` or `WAITED_TOO_LONG` (cases/decide.ts `decideWaitingCase`); null before 0008.
   */
  escalated_reason: ColumnType<
    EscalatedReason | null,
    EscalatedReason | null | undefined,
    EscalatedReason | null
  >;
}

export type ReviewStatus = 'leased' | 'submitted' | 'released' | 'expired' | 'discarded';

export interface ReviewsTable {
  id: string;
  case_id: string;
  judge_id: string;
  kind: 'consensus' | 'honeypot';
  status: ReviewStatus;
  leased_at: Timestamp;
  lease_expires_at: Timestamp;
  submitted_at: NullableTimestamp;
  verdict: VerdictValue | null;
  quality_score: number | null;
  reason_codes: ColumnType<string[], string[] | undefined, string[]>;
  answer: Json<Record<string, unknown> | null> | null;
  /**
   * When the review counted toward a verdict (and earned its fee); a honeypot's, when it was counted
   * and paid (`fee_due_at` or just after: reviews/honeypot-fees.ts `payDueHoneypotFees`).
   */
  counted_at: NullableTimestamp;
  fee_amount: ColumnType<number | null, number | null | undefined, number | null>;
  /**
   * A honeypot review only (null for real ones, and for honeypots submitted before 0009, which were
   * never paid): when it is counted and paid, as long after its submission as a real review takes to
   * settle (reviews/decide.ts `decideHoneypotFeeDelay`).
   */
  fee_due_at: NullableTimestamp;
  /**
   * A honeypot review only: whether its verdict matched the honeypot's known verdict (a honeypot
   * withdrawn while leased: the case's own verdict), as `qc.review.counted.v1` says.
   */
  honeypot_agreed: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
}

export interface AppealsTable {
  id: string;
  submission_id: string;
  assignment_id: string;
  campaign_id: string;
  company_id: string;
  contributor_id: string;
  reason: string;
  rejected_reason_codes: string[];
  status: 'open' | 'decided';
  decision: 'approve' | 'reject' | null;
  decided_by: string | null;
  decision_reason: ColumnType<string | null, string | null | undefined, string | null>;
  filed_at: Timestamp;
  decided_at: NullableTimestamp;
  /** The case the decision settled (null until decided, and for appeals decided before 0007). */
  case_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The reason codes the decision published. */
  decision_reason_codes: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface ContributorGoldenTable {
  user_id: string;
  correct: Generated<number>;
  answered: Generated<number>;
}

/** A validated submission whose task QC has not heard of yet: its case opens when the task arrives. */
export interface WaitingSubmissionsTable {
  submission_id: string;
  revision: number;
  task_id: string;
  /** The submissions.submission.validated.v1 event, as it arrived. */
  event: Json<unknown>;
  received_at: Timestamp;
}

export interface QcDB extends KitTables {
  tasks: TasksTable;
  judges: JudgesTable;
  cases: CasesTable;
  reviews: ReviewsTable;
  appeals: AppealsTable;
  contributor_golden: ContributorGoldenTable;
  waiting_submissions: WaitingSubmissionsTable;
  company_members: CompanyMembersTable;
  idempotency_keys: IdempotencyKeysTable;
}
