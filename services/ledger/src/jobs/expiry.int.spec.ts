import { randomUUID } from 'node:crypto';
import { createLogger } from '@tessera/service-kit';
import { failRowWrites } from '@tessera/service-kit/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds, transferStream } from '../domain/accounts.ts';
import { startTestLedger, type TestLedger } from '../messaging/testing.ts';
import type { ProjectionTables } from '../projections/schema.ts';
import { ledgerWorkers } from '../service.ts';
import { expireDueTransfers } from './expiry.ts';

// The expiry job by hand (its worker is off): each due transfer on its own.
let t: TestLedger;

beforeAll(async () => {
  t = await startTestLedger({}, { workers: { [ledgerWorkers.expiry]: false } });
});

afterAll(async () => {
  await t?.stop();
});

const logger = createLogger({ name: 'expiry-test', level: 'silent', pretty: false });

/** A pending top-up of `companyId` that times out after a second. */
async function pendingTransfer(companyId: string): Promise<string> {
  const id = randomUUID();
  const outcome = await t.ledger.resources.engine.transfer([
    {
      id,
      debit_account: accountIds.world,
      credit_account: accountIds.companyCredits(companyId),
      amount: 500,
      currency: 'USD',
      code: 'topup',
      pending: { timeout_seconds: 1 },
    },
  ]);
  expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
  return id;
}

describe('expireDueTransfers', () => {
  it('goes on past a transfer whose expiry fails, and expires it at a later run', async () => {
    const failing = await pendingTransfer(randomUUID());
    const next = await pendingTransfer(randomUUID());
    await t.projected();
    const db = t.ledger.db as unknown as Kysely<ProjectionTables>;
    const now = new Date(Date.now() + 2_000);
    const state = async (id: string) => (await t.ledger.resources.engine.getTransfer(id))?.state;

    // A fault of ours in writing the first one's expiry, injected by the database itself.
    const restore = await failRowWrites(db, {
      table: 'es_events',
      column: 'stream',
      value: transferStream(failing),
      on: 'insert',
    });
    try {
      expect(await expireDueTransfers(db, t.ledger.resources.engine, logger, { now })).toBe(1);
      expect(await state(next)).toBe('expired');
      expect(await state(failing)).toBe('pending');
    } finally {
      await restore();
    }
    await t.projected();
    expect(await expireDueTransfers(db, t.ledger.resources.engine, logger, { now })).toBe(1);
    expect(await state(failing)).toBe('expired');
  });
});
