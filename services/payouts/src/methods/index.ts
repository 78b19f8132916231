import type { Decision } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { MethodType, PayoutsDB } from '../db/schema.ts';
import { type Keyring, openDetails } from './crypto.ts';
import { decideUsable } from './decide.ts';
import { lockMethod, sealedMethod } from './repository.ts';

export type { MethodType } from '../db/schema.ts';
export type { Keyring } from './crypto.ts';
export { UnreadableDetailsError } from './crypto.ts';
export { methodRefusals } from './decide.ts';

/**
 * The method a withdrawal may be paid to: the user's own, not deleted, its cooldown over. Refuses
 * METHOD_NOT_FOUND (not_found; also for another user's or a deleted method) or METHOD_COOLING_DOWN
 * (conflict; `usable_from` in the refusal's extensions).
 *
 * Call it inside the transaction that writes the withdrawal: it holds a share lock on the method's
 * row until that transaction ends, so a delete racing the withdrawal either waits and then sees
 * it (METHOD_IN_USE) or goes first and this finds no method.
 */
export async function findUsableMethod(
  db: Kysely<PayoutsDB>,
  query: { methodId: string; userId: string; now: Date },
): Promise<Decision<{ id: string; type: MethodType; usableFrom: Date }>> {
  const method = await lockMethod(db, query.methodId, 'share');
  return decideUsable(method, { userId: query.userId.toLowerCase(), now: query.now });
}

/**
 * A method's details, decrypted (for the provider that pays), or undefined once the method is
 * deleted or erased (or never was). Throws `UnreadableDetailsError` when stored details do not open
 * (an unknown key id, a tampered or moved ciphertext): that is never a reason to pay elsewhere.
 * Never log what this returns.
 */
export async function readMethodDetails(
  db: Kysely<PayoutsDB>,
  methodId: string,
  keyring: Keyring,
): Promise<{ type: MethodType; details: Record<string, unknown> } | undefined> {
  const row = await sealedMethod(db, methodId);
  if (!row || row.deleted_at !== null || row.encrypted_details === null || row.key_id === null)
    return undefined;
  const details = openDetails(
    keyring,
    { methodId: row.id, userId: row.user_id, type: row.type },
    { keyId: row.key_id, sealed: row.encrypted_details },
  );
  return { type: row.type, details };
}
