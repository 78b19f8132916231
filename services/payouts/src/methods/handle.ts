import { randomUUID } from 'node:crypto';
import { orRefuse } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { PayoutsDB } from '../db/schema.ts';
import { standingOf } from '../users/repository.ts';
import { type Keyring, sealDetails } from './crypto.ts';
import { decideAdd, decideDelete } from './decide.ts';
import {
  activeMethods,
  countMethods,
  hasOpenWithdrawal,
  insertMethod,
  lockMethod,
  lockUserMethods,
  markDeleted,
  type MethodRecord,
} from './repository.ts';
import { type MethodInput, validateMethod } from './validation.ts';

type Db = Kysely<PayoutsDB>;

export interface MethodRules {
  cooldownMs: number;
  keyring: Keyring;
}

/**
 * A user adds a payout method (in the caller's transaction): its fields checked, its details
 * sealed for its row under the active key, usable at once if it is the user's first method ever,
 * after the cooldown otherwise. Nothing is logged and no event is written: the details stay here.
 */
export async function addMethod(
  trx: Db,
  command: { userId: string; input: MethodInput; now: Date },
  rules: MethodRules,
): Promise<MethodRecord> {
  const valid = orRefuse(validateMethod(command.input));
  await lockUserMethods(trx, command.userId);
  const { status } = await standingOf(trx, command.userId);
  const counts = await countMethods(trx, command.userId);
  const { usableFrom } = orRefuse(
    decideAdd({ userStatus: status, ...counts, now: command.now }, { cooldownMs: rules.cooldownMs }),
  );
  const method: MethodRecord = {
    id: randomUUID(),
    userId: command.userId,
    type: valid.type,
    masked: valid.masked,
    usableFrom,
    createdAt: command.now,
  };
  const sealed = sealDetails(
    rules.keyring,
    { methodId: method.id, userId: method.userId, type: method.type },
    valid.details,
  );
  await insertMethod(trx, { ...method, keyId: sealed.keyId, encryptedDetails: sealed.sealed });
  return method;
}

export function listMethods(db: Db, userId: string): Promise<MethodRecord[]> {
  return activeMethods(db, userId);
}

/**
 * A user deletes their method (in the caller's transaction): marked deleted, its details and key id
 * wiped; refused while a withdrawal that is not final names it. Another user's method, or one
 * already deleted, is not found.
 */
export async function deleteMethod(
  trx: Db,
  command: { userId: string; methodId: string; now: Date },
): Promise<void> {
  const method = await lockMethod(trx, command.methodId, 'update');
  const inUse = method ? await hasOpenWithdrawal(trx, method.id) : false;
  const { id } = orRefuse(decideDelete({ method, inUse }, { userId: command.userId }));
  await markDeleted(trx, id, command.now);
}
