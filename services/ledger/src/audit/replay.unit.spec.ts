import { beforeAll, describe, expect, it } from 'vitest';
import { accountIds, accountStream, transferStream } from '../domain/accounts.ts';
import { createLedger } from '../engine/ledger.ts';
import { createMemoryEventStore } from '../store/memory-store.ts';
import type { ChainedEvent } from './chain.ts';
import { accountKey, LedgerReplay } from './replay.ts';
import { Report } from './report.ts';
import { driveLedger, manualClock } from './testing/activity.ts';
import { chained, edited, uuid } from './testing/events.ts';

function replayAll(events: readonly ChainedEvent[]): { replay: LedgerReplay; report: Report } {
  const replay = new LedgerReplay();
  for (const event of events) replay.apply(event);
  const report = new Report('test');
  replay.report(report);
  return { replay, report };
}

let log: ChainedEvent[];
let engineBalances: Map<string, Record<string, number>>;

beforeAll(async () => {
  const store = createMemoryEventStore();
  const clock = manualClock();
  const engine = createLedger(store, { clock: clock.now });
  const summary = await driveLedger(engine, { clock, rounds: 3, users: 5 });
  expect(summary.rejected).toBeGreaterThan(0);
  log = chained(store.all());
  engineBalances = new Map();
  for (const id of summary.accounts) {
    const account = await engine.getAccount(id, 'USD');
    if (account) engineBalances.set(accountKey(id, 'USD'), account as unknown as Record<string, number>);
  }
});

const findEvent = (type: string, where: (e: ChainedEvent) => boolean = () => true) => {
  const index = log.findIndex((e) => e.type === type && where(e));
  expect(index).toBeGreaterThanOrEqual(0);
  return index;
};

describe('LedgerReplay over the real engine', () => {
  it('passes every check, and both folds give the engine’s balances', () => {
    const { replay, report } = replayAll(log);
    expect(report.failureTexts()).toEqual([]);
    // Honeypot fees among them: platform:quality opened (per the chart) and funding its chains.
    expect(log.some((e) => e.type === 'account-opened' && e.data.kind === 'platform_quality')).toBe(true);
    expect(log.some((e) => e.type === 'transfer-created' && e.data.code === 'honeypot_funding')).toBe(true);
    const types = new Set(log.map((e) => e.type));
    expect([...types].sort()).toEqual([
      'account-entry',
      'account-opened',
      'pending-expired',
      'pending-posted',
      'pending-voided',
      'transfer-created',
    ]);
    expect(engineBalances.size).toBeGreaterThan(10);
    for (const [key, engine] of engineBalances) {
      for (const map of [replay.byEntries, replay.byTransfers]) {
        const b = map.get(key);
        expect(b, key).toBeDefined();
        for (const field of [
          'debits_posted',
          'credits_posted',
          'debits_pending',
          'credits_pending',
        ] as const) {
          expect(b?.[field], `${key} ${field}`).toBe(BigInt(engine[field] ?? -1));
        }
      }
    }
    const rendered = report.render();
    expect(rendered).toContain('✓ USD: posted debits');
    expect(rendered).toMatch(/PASSED: 0 failed checks/);
  });

  it('detects an entry whose deltas were changed: entries, balances and double entry all fail', () => {
    const i = findEvent('account-entry', (e) => e.data.debits_posted !== 0);
    const tampered = log.map((e, j) =>
      j === i ? edited(e, (c) => (c.data.debits_posted = Number(c.data.debits_posted) + 1)) : e,
    );
    const failures = replayAll(tampered).report.failureTexts().join('\n');
    expect(failures).toMatch(/entry mismatches/);
    expect(failures).toContain(`transfer ${log[i]?.data.transfer_id as string}`);
    expect(failures).toMatch(/balances disagree/);
    expect(failures).toMatch(/USD: posted debits \d+ ≠ credits/);
  });

  it('detects a missing entry and an entry for a transfer that never happened', () => {
    const i = findEvent('account-entry');
    const without = log.filter((_, j) => j !== i);
    expect(replayAll(without).report.failureTexts().join('\n')).toMatch(/has no entry on/);

    const entry = log[i]!;
    const stray = edited(entry, (c) => {
      c.data.transfer_id = uuid();
      c.revision = 999;
    });
    expect(
      replayAll([...log, { ...stray, seq: log.length + 1 }])
        .report.failureTexts()
        .join('\n'),
    ).toMatch(/which has no such event/);
  });

  it('detects a revision gap and an event in the wrong stream', () => {
    const i = findEvent('transfer-created');
    const gap = log.map((e, j) => (j === i ? { ...e, revision: 1 } : e));
    expect(replayAll(gap).report.failureTexts().join('\n')).toMatch(/revision 1 follows -1/);
    const misplaced = log.map((e, j) => (j === i ? { ...e, stream: transferStream(uuid()) } : e));
    expect(replayAll(misplaced).report.failureTexts().join('\n')).toMatch(/events in the wrong stream/);
  });

  it('detects a resolution of a transfer that was not pending, and an expiry before its time', () => {
    const posted = findEvent('pending-posted');
    const again = { ...log[posted]!, id: uuid(), seq: log.length + 1, revision: 2 };
    expect(
      replayAll([...log, again])
        .report.failureTexts()
        .join('\n'),
    ).toMatch(/pending-posted of transfer .*, which is posted/);

    const expired = findEvent('pending-expired');
    const early = log.map((e, j) =>
      j === expired ? edited(e, (c) => (c.data.at = '2000-01-01T00:00:00.000Z')) : e,
    );
    expect(replayAll(early).report.failureTexts().join('\n')).toMatch(
      /expired at 2000-01-01T00:00:00.000Z, before/,
    );
  });

  it('detects a malformed event and an unknown type', () => {
    const i = findEvent('transfer-created');
    const bad = log.map((e, j) => (j === i ? edited(e, (c) => (c.data.amount = -5)) : e));
    expect(replayAll(bad).report.failureTexts().join('\n')).toMatch(/transfer-created is malformed: amount/);
    const unknown = log.map((e, j) => (j === i ? { ...e, type: 'transfer-deleted' } : e));
    expect(replayAll(unknown).report.failureTexts().join('\n')).toMatch(
      /unknown event type "transfer-deleted"/,
    );
  });

  it('detects an account opened with flags the chart does not give it', () => {
    const i = findEvent('account-opened', (e) => (e.data.account_id as string).startsWith('user:'));
    const loose = log.map((e, j) =>
      j === i
        ? edited(e, (c) => ((c.data.flags as Record<string, boolean>).debits_must_not_exceed_credits = false))
        : e,
    );
    expect(replayAll(loose).report.failureTexts().join('\n')).toMatch(/opened with flags .*not the chart's/);
  });
});

describe('LedgerReplay rules', () => {
  const at = '2025-01-01T00:00:00.000Z';
  let seq = 0;
  const ev = (
    stream: string,
    revision: number,
    type: string,
    data: Record<string, unknown>,
  ): ChainedEvent => ({
    seq: ++seq,
    id: uuid(),
    stream,
    revision,
    type,
    data: data as ChainedEvent['data'],
    metadata: {},
    recorded_at: at,
  });
  const user = accountIds.userAvailable(uuid());
  const opened = (account: string, kind: string, owner: string | null, constrained: boolean, revision = 0) =>
    ev(accountStream(account, 'USD'), revision, 'account-opened', {
      account_id: account,
      currency: 'USD',
      kind,
      owner,
      flags: { debits_must_not_exceed_credits: constrained, credits_must_not_exceed_debits: false },
      at,
    });
  const created = (id: string, debit: string, credit: string, amount: number, pending = false) =>
    ev(transferStream(id), 0, 'transfer-created', {
      id,
      debit_account: debit,
      credit_account: credit,
      amount,
      requested_amount: amount,
      currency: 'USD',
      code: 'bonus',
      metadata: {},
      pending,
      expires_at: null,
      balancing_debit: false,
      linked_ids: [id],
      request_hash: 'h',
      at,
    });
  const entry = (account: string, revision: number, transfer: string, cause: string, d: number[]) =>
    ev(accountStream(account, 'USD'), revision, 'account-entry', {
      account_id: account,
      currency: 'USD',
      transfer_id: transfer,
      cause,
      debits_posted: d[0],
      credits_posted: d[1],
      debits_pending: d[2],
      credits_pending: d[3],
      at,
    });

  it('computes pending then posted balances, and flags an overdraft even when the entries agree', () => {
    const world = accountIds.world;
    const t1 = uuid();
    const t2 = uuid();
    const events = [
      created(t1, world, user, 100),
      opened(world, 'world', null, false),
      entry(world, 1, t1, 'transfer-created', [100, 0, 0, 0]),
      opened(user, 'user_available', user.split(':')[1]!, true),
      entry(user, 1, t1, 'transfer-created', [0, 100, 0, 0]),
      created(t2, user, world, 150, true),
      entry(user, 2, t2, 'transfer-created', [0, 0, 150, 0]),
      entry(world, 2, t2, 'transfer-created', [0, 0, 0, 150]),
      ev(transferStream(t2), 1, 'pending-posted', { transfer_id: t2, amount: 150, at }),
      entry(user, 3, t2, 'pending-posted', [150, 0, -150, 0]),
      entry(world, 3, t2, 'pending-posted', [0, 150, 0, -150]),
    ];
    const { replay, report } = replayAll(events);
    expect(replay.byEntries.get(accountKey(user, 'USD'))).toEqual({
      debits_posted: 150n,
      credits_posted: 100n,
      debits_pending: 0n,
      credits_pending: 0n,
    });
    const failures = report.failureTexts();
    expect(failures.join('\n')).toMatch(new RegExp(`${user}@USD: debits exceeded credits by 50 after seq 6`));
    expect(failures.filter((f) => !/constraint|exceeded/.test(f))).toEqual([]);
  });
});
