import type { IdempotencyKeysTable, KitTables } from '@tessera/service-kit';
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type NullableText = ColumnType<string | null, string | null | undefined, string | null>;
/** bigint columns: the kit makes pg parse int8 as numbers (amounts stay below 2^53). */
type Amount = ColumnType<number, number | string, number | string>;

export type MethodType = 'paypal' | 'bank_transfer' | 'crypto_usdc';
export type WithdrawalStatus =
  | 'requested'
  | 'pending_review'
  | 'approved'
  | 'processing'
  | 'completed'
  | 'failed'
  | 'rejected'
  | 'cancelled';

export interface UsersTable {
  user_id: string;
  role: string | null;
  status: Generated<'active' | 'suspended' | 'erased'>;
  email_verified: Generated<boolean>;
  /** numeric(3,1): pg returns a string. */
  trust_score: ColumnType<string, number | string | undefined, number | string>;
  status_changed_at: NullableTimestamp;
  trust_changed_at: NullableTimestamp;
}

export interface PayoutMethodsTable {
  id: string;
  user_id: string;
  type: MethodType;
  /** What is shown: `****1234`, `j***@example.com`. Never the details. */
  masked: string;
  /** The key the details were encrypted with; null once deleted. */
  key_id: string | null;
  /** iv ‖ ciphertext ‖ tag (AES-256-GCM); null once deleted. */
  encrypted_details: Buffer | null;
  usable_from: Timestamp;
  created_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface WithdrawalsTable {
  id: string;
  user_id: string;
  method_id: string;
  method_type: MethodType;
  amount: Amount;
  currency: string;
  status: WithdrawalStatus;
  provider: string | null;
  external_transaction_id: string | null;
  reason_code: string | null;
  attempts: Generated<number>;
  next_attempt_at: NullableTimestamp;
  decided_by: string | null;
  requested_at: Timestamp;
  held_at: NullableTimestamp;
  approved_at: NullableTimestamp;
  processing_at: NullableTimestamp;
  /** When the provider was first called for it: from then on the payout may be out. */
  sent_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  /** Reconciled by an admin (POST /admin/withdrawals/:id/reconcile): when, by whom, the provider's reference checked, a note. */
  reconciled_at: NullableTimestamp;
  reconciled_by: NullableText;
  reconciled_reference: NullableText;
  reconciled_note: NullableText;
  /** The admin's words on a rejection (the body's `reason`): admins only, never in events; null once its user is erased. */
  rejected_note: NullableText;
  updated_at: Timestamp;
}

export interface PayoutsDB extends KitTables {
  users: UsersTable;
  payout_methods: PayoutMethodsTable;
  withdrawals: WithdrawalsTable;
  idempotency_keys: IdempotencyKeysTable;
}
