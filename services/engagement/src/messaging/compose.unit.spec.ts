import { foreignEvent } from '@tessera/service-kit/testing';
import type { Transaction } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { EngagementDB } from '../db/schema.ts';
import { composeHandlers } from './compose.ts';

describe('composeHandlers', () => {
  it('runs every capability that handles an event, in order, and stops at the first failure', async () => {
    const calls: string[] = [];
    const composed = composeHandlers([
      { 'identity.user.erased.v1': async () => void calls.push('users') },
      { 'identity.user.reinstated.v1': async () => void calls.push('other') },
      {
        'identity.user.erased.v1': async () => {
          calls.push('standing');
          throw new Error('boom');
        },
      },
      { 'identity.user.erased.v1': async () => void calls.push('notifications') },
    ]);
    const trx = {} as Transaction<EngagementDB>;
    const erased = foreignEvent('identity.user.erased.v1', { user_id: crypto.randomUUID() });
    await expect(composed['identity.user.erased.v1']!(erased, trx)).rejects.toThrow('boom');
    expect(calls).toEqual(['users', 'standing']);
    expect(Object.keys(composed).sort()).toEqual(['identity.user.erased.v1', 'identity.user.reinstated.v1']);
  });
});
