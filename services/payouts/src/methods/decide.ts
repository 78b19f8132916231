import { accept, type Decision, refuse, reject } from '@tessera/service-kit';
import type { MethodType } from '../db/schema.ts';

/** The most methods a user keeps at once (delete one to add another). */
export const MAX_ACTIVE_METHODS = 10;

export const methodRefusals = {
  notFound: () => refuse.notFound('No such payout method.', 'METHOD_NOT_FOUND'),
  coolingDown: (usableFrom: Date) =>
    refuse.conflict(
      'METHOD_COOLING_DOWN',
      `This payout method was added recently and can be used from ${usableFrom.toISOString()}.`,
      { usable_from: usableFrom.toISOString() },
    ),
};

export interface AddState {
  /** The user's status as payouts knows it (erased: their details are gone and stay gone). */
  userStatus: 'active' | 'suspended' | 'erased';
  /** Methods the user has now (not deleted). */
  active: number;
  /** Methods the user ever added, deleted ones included. */
  everAdded: number;
  now: Date;
}

/**
 * When a new method may first be used. The first method a user ever adds is usable at once; any
 * later one (a second method, or a replacement after deleting the old one: there is no update, a
 * change is delete + add) only after the cooldown. Counting deleted methods matters: otherwise
 * whoever takes over an account deletes the only method and adds their own, usable at once.
 */
export function decideAdd(state: AddState, rules: { cooldownMs: number }): Decision<{ usableFrom: Date }> {
  if (state.userStatus === 'erased') {
    return reject(refuse.forbidden('This account was erased.', 'ACCOUNT_ERASED'));
  }
  if (state.active >= MAX_ACTIVE_METHODS) {
    return reject(
      refuse.conflict(
        'TOO_MANY_METHODS',
        `You have ${MAX_ACTIVE_METHODS} payout methods, the most one may keep; delete one to add another.`,
      ),
    );
  }
  const usableFrom =
    state.everAdded === 0 ? state.now : new Date(state.now.getTime() + Math.max(0, rules.cooldownMs));
  return accept({ usableFrom });
}

/** A method as the rules see it. */
export interface MethodState {
  id: string;
  userId: string;
  type: MethodType;
  usableFrom: Date;
  deletedAt: Date | null;
}

/**
 * Whether the user may delete the method: it must be theirs and not deleted (else it is not
 * found, whoever's it is), and no withdrawal that is not final may name it (that payout still
 * needs the details).
 */
export function decideDelete(
  state: { method: MethodState | undefined; inUse: boolean },
  command: { userId: string },
): Decision<{ id: string }> {
  const { method } = state;
  if (!method || method.userId !== command.userId || method.deletedAt !== null) {
    return reject(methodRefusals.notFound());
  }
  if (state.inUse) {
    return reject(
      refuse.conflict(
        'METHOD_IN_USE',
        'A withdrawal to this payout method is still under way; delete it once that withdrawal is final.',
      ),
    );
  }
  return accept({ id: method.id });
}

/** Whether a withdrawal may be paid to the method now: the user's own, not deleted, cooldown over. */
export function decideUsable(
  method: MethodState | undefined,
  command: { userId: string; now: Date },
): Decision<{ id: string; type: MethodType; usableFrom: Date }> {
  if (!method || method.userId !== command.userId || method.deletedAt !== null) {
    return reject(methodRefusals.notFound());
  }
  if (command.now.getTime() < method.usableFrom.getTime()) {
    return reject(methodRefusals.coolingDown(method.usableFrom));
  }
  return accept({ id: method.id, type: method.type, usableFrom: method.usableFrom });
}
