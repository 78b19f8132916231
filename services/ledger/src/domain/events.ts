import { z } from 'zod';
import { accountKinds } from './accounts.ts';
import { transferCodes } from './transfers.ts';

/**
 * What the ledger stores in its event store (not the bus). A transfer's life is in its own stream
 * (`transfer-<id>`); each account it touches gets an entry with the balance deltas in the account's
 * stream (`account-<id>@<currency>`), appended in the same atomic write. An auditor can recompute
 * every balance both ways (folding account entries, or replaying transfers) and compare.
 */

const amount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const delta = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const isoTime = z.iso.datetime({ offset: true });

export const storedEventSchemas = {
  'account-opened': z.object({
    account_id: z.string(),
    currency: z.string(),
    kind: z.enum(accountKinds),
    owner: z.string().nullable(),
    flags: z.object({
      debits_must_not_exceed_credits: z.boolean(),
      credits_must_not_exceed_debits: z.boolean(),
    }),
    at: isoTime,
  }),
  /** The change one transfer event made to one account. */
  'account-entry': z.object({
    account_id: z.string(),
    currency: z.string(),
    transfer_id: z.uuid(),
    /** Which transfer event caused it. */
    cause: z.enum(['transfer-created', 'pending-posted', 'pending-voided', 'pending-expired']),
    debits_posted: delta,
    credits_posted: delta,
    debits_pending: delta,
    credits_pending: delta,
    at: isoTime,
  }),
  'transfer-created': z.object({
    id: z.uuid(),
    debit_account: z.string(),
    credit_account: z.string(),
    amount,
    requested_amount: amount,
    currency: z.string(),
    code: z.enum(transferCodes),
    metadata: z.record(z.string(), z.string()),
    pending: z.boolean(),
    expires_at: isoTime.nullable(),
    balancing_debit: z.boolean(),
    linked_ids: z.array(z.uuid()),
    /** SHA-256 of the canonical request, to tell a retry from a conflicting reuse of the id. */
    request_hash: z.string(),
    at: isoTime,
  }),
  'pending-posted': z.object({ transfer_id: z.uuid(), amount, at: isoTime }),
  'pending-voided': z.object({ transfer_id: z.uuid(), amount, at: isoTime }),
  'pending-expired': z.object({ transfer_id: z.uuid(), amount, at: isoTime }),
} as const;

export type StoredEventType = keyof typeof storedEventSchemas;
export type StoredEventData<T extends StoredEventType> = z.infer<(typeof storedEventSchemas)[T]>;
export type StoredEvent = { [T in StoredEventType]: { type: T; data: StoredEventData<T> } }[StoredEventType];

export function isStoredEventType(type: string): type is StoredEventType {
  return Object.hasOwn(storedEventSchemas, type);
}
