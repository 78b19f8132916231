import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  type AddState,
  decideAdd,
  decideDelete,
  decideUsable,
  MAX_ACTIVE_METHODS,
  type MethodState,
} from './decide.ts';

const now = new Date('2030-05-01T10:00:00.000Z');
const hour = 3_600_000;
const rules = { cooldownMs: 24 * hour };

describe('adding a method', () => {
  const spec = decider((state: AddState, command: { cooldownMs: number }) => decideAdd(state, command));
  const fresh: AddState = { userStatus: 'active', active: 0, everAdded: 0, now };

  it('makes the first method ever usable at once', () => {
    spec.given(fresh).when(rules).then({ usableFrom: now });
  });

  it('makes a second method wait for the cooldown', () => {
    spec
      .given({ ...fresh, active: 1, everAdded: 1 })
      .when(rules)
      .then({ usableFrom: new Date(now.getTime() + 24 * hour) });
  });

  it('makes a replacement wait too: the only method deleted, then a new one added', () => {
    spec
      .given({ ...fresh, active: 0, everAdded: 1 })
      .when(rules)
      .then({ usableFrom: new Date(now.getTime() + 24 * hour) });
  });

  it('with a cooldown of 0, every method is usable at once', () => {
    spec
      .given({ ...fresh, active: 1, everAdded: 3 })
      .when({ cooldownMs: 0 })
      .then({ usableFrom: now });
  });

  it(`keeps at most ${MAX_ACTIVE_METHODS} methods`, () => {
    spec
      .given({ ...fresh, active: MAX_ACTIVE_METHODS - 1, everAdded: 20 })
      .when(rules)
      .thenMatches(() => undefined);
    spec
      .given({ ...fresh, active: MAX_ACTIVE_METHODS, everAdded: MAX_ACTIVE_METHODS })
      .when(rules)
      .thenRefuses('TOO_MANY_METHODS', 'conflict');
  });

  it('refuses an erased account', () => {
    spec
      .given({ ...fresh, userStatus: 'erased' })
      .when(rules)
      .thenRefuses('ACCOUNT_ERASED', 'forbidden');
  });
});

const userId = '0c4d3b8e-58a4-4c40-9d0c-7f1f3b1e2a01';
const otherUserId = '5d0b7a3e-6a3f-4f8e-8f6e-1d2c3b4a5e6f';
const method: MethodState = {
  id: '9a1e7c2d-2b7f-4c1a-8f0e-3d4c5b6a7e8f',
  userId,
  type: 'paypal',
  usableFrom: now,
  deletedAt: null,
};

describe('deleting a method', () => {
  const spec = decider(decideDelete);

  it('is the owner’s, while no withdrawal to it is under way', () => {
    spec.given({ method, inUse: false }).when({ userId }).then({ id: method.id });
    spec.given({ method, inUse: true }).when({ userId }).thenRefuses('METHOD_IN_USE', 'conflict');
  });

  it('is not found for anyone else, when deleted, or when there is none', () => {
    spec
      .given({ method, inUse: false })
      .when({ userId: otherUserId })
      .thenRefuses('METHOD_NOT_FOUND', 'not_found');
    // Another user learns nothing, not even that it is in use.
    spec
      .given({ method, inUse: true })
      .when({ userId: otherUserId })
      .thenRefuses('METHOD_NOT_FOUND', 'not_found');
    spec
      .given({ method: { ...method, deletedAt: now }, inUse: false })
      .when({ userId })
      .thenRefuses('METHOD_NOT_FOUND', 'not_found');
    spec
      .given({ method: undefined, inUse: false })
      .when({ userId })
      .thenRefuses('METHOD_NOT_FOUND', 'not_found');
  });
});

describe('paying to a method', () => {
  const spec = decider(decideUsable);

  it('is allowed from usable_from on', () => {
    spec.given(method).when({ userId, now }).then({ id: method.id, type: 'paypal', usableFrom: now });
  });

  it('waits while the method cools down, and says until when', () => {
    const later = new Date(now.getTime() + 24 * hour);
    const refusal = spec
      .given({ ...method, usableFrom: later })
      .when({ userId, now })
      .thenRefuses('METHOD_COOLING_DOWN', 'conflict');
    expect(refusal.extensions).toEqual({ usable_from: later.toISOString() });
    spec
      .given({ ...method, usableFrom: later })
      .when({ userId, now: later })
      .thenMatches(() => undefined);
  });

  it('is not found for another user, a deleted method, or none', () => {
    spec.given(method).when({ userId: otherUserId, now }).thenRefuses('METHOD_NOT_FOUND', 'not_found');
    spec
      .given({ ...method, deletedAt: now })
      .when({ userId, now })
      .thenRefuses('METHOD_NOT_FOUND', 'not_found');
    spec.given(undefined).when({ userId, now }).thenRefuses('METHOD_NOT_FOUND', 'not_found');
  });
});
