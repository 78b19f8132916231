import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  autoApprovable,
  decideHoldChange,
  decideMove,
  decideNotFrozen,
  decideOnErasure,
  decidePaidByHand,
  decideReconcile,
  decideRequest,
  decideSenderAnswer,
  heldReason,
  pollDelayMs,
  resendAllowed,
  retryDelayMs,
  type SenderAnswer,
} from './decide.ts';

const active = { status: 'active' as const, emailVerified: true, trustScore: 5 };
const rules = { minimum: 500, dailyLimit: 10_000, currency: 'USD' };
const usd = (amount: number) => ({ amount, currency: 'USD' });

describe('decideRequest', () => {
  const spec = decider(
    (request: { amount: number; currency: string }, state: Parameters<typeof decideRequest>[1]) =>
      decideRequest(request, state, rules),
  );

  it('takes the minimum and exactly what the daily limit leaves', () => {
    spec.given(usd(500)).when({ standing: active, withdrawnToday: 0 }).then(undefined);
    spec.given(usd(4_000)).when({ standing: active, withdrawnToday: 6_000 }).then(undefined);
  });

  it('refuses below the minimum, above the daily limit, and another currency', () => {
    spec
      .given(usd(499))
      .when({ standing: active, withdrawnToday: 0 })
      .thenRefuses('BELOW_MINIMUM', 'unprocessable');
    const over = spec
      .given(usd(4_001))
      .when({ standing: active, withdrawnToday: 6_000 })
      .thenRefuses('DAILY_LIMIT_EXCEEDED');
    expect(over.extensions).toEqual({ remaining: usd(4_000) });
    spec
      .given({ amount: 1_000, currency: 'EUR' })
      .when({ standing: active, withdrawnToday: 0 })
      .thenRefuses('CURRENCY_NOT_SUPPORTED');
  });

  it('refuses a suspended or erased account, and an unverified email (forbidden)', () => {
    for (const status of ['suspended', 'erased'] as const)
      spec
        .given(usd(1_000))
        .when({ standing: { ...active, status }, withdrawnToday: 0 })
        .thenRefuses('ACCOUNT_NOT_ACTIVE', 'forbidden');
    spec
      .given(usd(1_000))
      .when({ standing: { ...active, emailVerified: false }, withdrawnToday: 0 })
      .thenRefuses('EMAIL_NOT_VERIFIED', 'forbidden');
  });
});

describe('decideMove (the saga)', () => {
  it('moves along the saga and nowhere else', () => {
    const ok: [Parameters<typeof decideMove>[0], Parameters<typeof decideMove>[1], string][] = [
      ['requested', { kind: 'hold-placed' }, 'pending_review'],
      ['requested', { kind: 'hold-rejected' }, 'rejected'],
      ['pending_review', { kind: 'approve', by: 'admin' }, 'approved'],
      ['pending_review', { kind: 'cancel' }, 'cancelled'],
      ['approved', { kind: 'cancel' }, 'cancelled'],
      ['pending_review', { kind: 'reject' }, 'rejected'],
      ['approved', { kind: 'reject' }, 'rejected'],
      ['approved', { kind: 'start-processing' }, 'processing'],
      ['processing', { kind: 'complete' }, 'completed'],
      ['processing', { kind: 'fail' }, 'failed'],
    ];
    for (const [from, step, to] of ok) expect(decideMove(from, step)).toEqual({ ok: true, value: to });
  });

  it('refuses to cancel once processing started, or twice; and any move out of a final state', () => {
    for (const from of ['processing', 'completed', 'cancelled', 'failed', 'rejected'] as const) {
      const decision = decideMove(from, { kind: 'cancel' });
      expect(decision.ok ? null : decision.refusal.code).toBe('WITHDRAWAL_NOT_CANCELLED');
    }
    const early = decideMove('requested', { kind: 'cancel' });
    expect(early.ok ? null : early.refusal.kind).toBe('conflict');
    for (const step of [
      { kind: 'complete' },
      { kind: 'approve', by: 'admin' },
      { kind: 'hold-placed' },
    ] as const) {
      expect(decideMove('completed', step).ok).toBe(false);
    }
  });

  it("never approves a suspended user's withdrawal (frozen)", () => {
    const frozen = decideMove(
      'pending_review',
      { kind: 'approve', by: 'admin' },
      { userStatus: 'suspended' },
    );
    expect(frozen.ok ? null : frozen.refusal.code).toBe('ACCOUNT_NOT_ACTIVE');
  });
});

describe('decideNotFrozen', () => {
  it('lets money leave only for an active user; refuses ACCOUNT_NOT_ACTIVE (forbidden) otherwise', () => {
    expect(decideNotFrozen('active').ok).toBe(true);
    for (const status of ['suspended', 'erased'] as const) {
      const frozen = decideNotFrozen(status);
      expect(frozen.ok ? null : [frozen.refusal.code, frozen.refusal.kind]).toEqual([
        'ACCOUNT_NOT_ACTIVE',
        'forbidden',
      ]);
    }
  });
});

describe('heldReason', () => {
  it("says a suspended user's withdrawal waiting for approval or for the sender is on hold, and nothing else", () => {
    expect(heldReason('pending_review', 'suspended')).toBe('ACCOUNT_SUSPENDED');
    expect(heldReason('approved', 'suspended')).toBe('ACCOUNT_SUSPENDED');
    for (const status of ['requested', 'processing', 'completed', 'failed', 'rejected', 'cancelled'] as const)
      expect(heldReason(status, 'suspended')).toBeNull();
    expect(heldReason('approved', 'active')).toBeNull();
    expect(heldReason('approved', 'erased')).toBeNull();
  });
});

describe('decideHoldChange (what a suspended user is told of their withdrawals)', () => {
  const suspended = 'ACCOUNT_SUSPENDED';
  const at = (status: Parameters<typeof heldReason>[0], userStatus: Parameters<typeof heldReason>[1]) => ({
    status,
    userStatus,
  });

  it('puts on hold, once, what waits for approval or sending when its user is suspended', () => {
    for (const status of ['pending_review', 'approved'] as const) {
      expect(decideHoldChange(at(status, 'active'), at(status, 'suspended'))).toEqual({
        kind: 'frozen',
        reasonCode: suspended,
      });
      // Suspended again (another event, the same status): nothing new.
      expect(decideHoldChange(at(status, 'suspended'), at(status, 'suspended'))).toBeUndefined();
    }
    for (const status of ['requested', 'processing', 'completed', 'failed', 'rejected', 'cancelled'] as const)
      expect(decideHoldChange(at(status, 'active'), at(status, 'suspended'))).toBeUndefined();
  });

  it('puts on hold a withdrawal the ledger holds while its user is suspended, and nothing the ledger refused', () => {
    expect(decideHoldChange(at('requested', 'suspended'), at('pending_review', 'suspended'))).toEqual({
      kind: 'frozen',
      reasonCode: suspended,
    });
    expect(decideHoldChange(at('requested', 'suspended'), at('rejected', 'suspended'))).toBeUndefined();
    expect(decideHoldChange(at('requested', 'active'), at('pending_review', 'active'))).toBeUndefined();
  });

  it('lifts the hold when its user is reinstated, with the reason lifted', () => {
    for (const status of ['pending_review', 'approved'] as const)
      expect(decideHoldChange(at(status, 'suspended'), at(status, 'active'))).toEqual({
        kind: 'unfrozen',
        reasonCode: suspended,
      });
    expect(decideHoldChange(at('approved', 'active'), at('approved', 'active'))).toBeUndefined();
  });

  it('lifts nothing from a withdrawal that ends while on hold, or whose user is erased: their own events say it', () => {
    for (const ended of ['cancelled', 'rejected', 'failed'] as const)
      expect(decideHoldChange(at('approved', 'suspended'), at(ended, 'suspended'))).toBeUndefined();
    expect(decideHoldChange(at('approved', 'suspended'), at('approved', 'erased'))).toBeUndefined();
    expect(decideHoldChange(at('pending_review', 'active'), at('pending_review', 'erased'))).toBeUndefined();
  });
});

describe('decideOnErasure', () => {
  const sentAt = new Date('2030-01-01T00:00:00Z');
  it('cancels what is not sent yet, fails what the sender took but never handed over', () => {
    for (const status of ['pending_review', 'approved'] as const)
      expect(decideOnErasure({ status, sentAt: null, provider: null })).toEqual({ move: { kind: 'cancel' } });
    expect(decideOnErasure({ status: 'processing', sentAt: null, provider: 'paypal' })).toEqual({
      move: { kind: 'fail' },
      reasonCode: 'ACCOUNT_ERASED',
    });
  });

  it('leaves alone a payout that may be out, a manual one, a requested one and a finished one', () => {
    expect(decideOnErasure({ status: 'processing', sentAt, provider: 'paypal' })).toBeUndefined();
    expect(decideOnErasure({ status: 'processing', sentAt: null, provider: 'manual' })).toBeUndefined();
    for (const status of ['requested', 'completed', 'failed', 'cancelled', 'rejected'] as const)
      expect(decideOnErasure({ status, sentAt: null, provider: null })).toBeUndefined();
  });
});

describe('autoApprovable (seed 000)', () => {
  const now = new Date('2030-01-04T00:00:00Z');
  const rules = { minTrust: 8, coolingMs: 72 * 3_600_000, now };
  const waited = { status: 'pending_review' as const, requestedAt: new Date('2030-01-01T00:00:00Z') };

  it('approves a trusted, active contributor after exactly the cooling period', () => {
    expect(autoApprovable(waited, { ...active, trustScore: 8 }, rules)).toBe(true);
    expect(
      autoApprovable(
        { ...waited, requestedAt: new Date(now.getTime() - 72 * 3_600_000 + 1) },
        { ...active, trustScore: 9 },
        rules,
      ),
    ).toBe(false);
  });

  it('never for trust below the bar, a suspended user, or another status', () => {
    expect(autoApprovable(waited, { ...active, trustScore: 7.9 }, rules)).toBe(false);
    expect(autoApprovable(waited, { ...active, trustScore: 9, status: 'suspended' }, rules)).toBe(false);
    expect(autoApprovable({ ...waited, status: 'approved' }, { ...active, trustScore: 9 }, rules)).toBe(
      false,
    );
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base and stops at an hour', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 1_000))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(30, 1_000)).toBe(3_600_000);
  });
});

describe('decideSenderAnswer (the sender)', () => {
  const now = new Date('2030-01-04T00:00:00Z');
  const rules = { maxAttempts: 5, retryBaseMs: 1_000, now };
  const processingAt = new Date(now.getTime() - 10 * 60_000);
  const before = { attempts: 0, reached: false, processingAt };
  const sent = { ...before, reached: true };
  const at = (ms: number) => new Date(now.getTime() + ms);
  const unavailable: SenderAnswer = { kind: 'retry', reason: 'HTTP_503' };
  const unreadable: SenderAnswer = { kind: 'retry', reason: 'unreadable', failAs: 'METHOD_UNREADABLE' };

  it("counts no pending answer as an attempt: the errors' count starts again, the poll waits as long as the payout has been pending", () => {
    expect(
      decideSenderAnswer({ kind: 'pending', externalId: 'BATCH' }, { ...sent, attempts: 4 }, rules),
    ).toEqual({ kind: 'wait', attempts: 0, nextAttemptAt: at(10 * 60_000), externalId: 'BATCH' });
    expect(pollDelayMs(0, 1_000)).toBe(1_000);
    expect(pollDelayMs(5 * 3_600_000, 1_000)).toBe(3_600_000);
  });

  it('fails a payout the provider said failed, and completes one it paid', () => {
    const failed = { kind: 'failed', reasonCode: 'RECEIVER_UNREGISTERED', detail: '' } as const;
    expect(decideSenderAnswer(failed, sent, rules)).toEqual({
      kind: 'fail',
      reasonCode: 'RECEIVER_UNREGISTERED',
    });
    expect(decideSenderAnswer({ kind: 'completed', externalId: 'TX' }, sent, rules)).toEqual({
      kind: 'complete',
      externalId: 'TX',
    });
  });

  it('retries errors with a doubling backoff', () => {
    expect(decideSenderAnswer(unavailable, { ...sent, attempts: 2 }, rules)).toEqual({
      kind: 'wait',
      attempts: 3,
      nextAttemptAt: at(4_000),
    });
  });

  it('fails after the last attempt only what cannot have reached the provider', () => {
    expect(decideSenderAnswer(unavailable, { ...before, attempts: 4 }, rules)).toEqual({
      kind: 'fail',
      reasonCode: 'PROVIDER_UNAVAILABLE',
    });
    expect(decideSenderAnswer(unreadable, { ...before, attempts: 4 }, rules)).toEqual({
      kind: 'fail',
      reasonCode: 'METHOD_UNREADABLE',
    });
    const deleted = { kind: 'unsendable', reasonCode: 'METHOD_DELETED', detail: '' } as const;
    expect(decideSenderAnswer(deleted, before, rules)).toEqual({
      kind: 'fail',
      reasonCode: 'METHOD_DELETED',
    });
  });

  it('keeps the hold of a payout that may be out when the attempts run out, or it cannot be asked about: reconcile', () => {
    for (const answer of [unavailable, unreadable])
      expect(decideSenderAnswer(answer, { ...sent, attempts: 4 }, rules)).toEqual({
        kind: 'reconcile',
        attempts: 5,
        nextAttemptAt: at(16_000),
        reason: answer.kind === 'retry' ? answer.reason : '',
      });
    const deleted = { kind: 'unsendable', reasonCode: 'METHOD_DELETED', detail: '' } as const;
    expect(decideSenderAnswer(deleted, sent, rules)).toMatchObject({
      kind: 'reconcile',
      reason: 'METHOD_DELETED',
    });
  });

  it('reconciles at once a payout the provider holds but did not name: never another attempt, which would send it again', () => {
    const unnamed: SenderAnswer = { kind: 'unconfirmed', reason: 'DUPLICATE_BATCH_NOT_NAMED' };
    for (const state of [sent, before, { ...sent, attempts: 3 }])
      expect(decideSenderAnswer(unnamed, state, rules)).toEqual({
        kind: 'reconcile',
        attempts: state.attempts + 1,
        nextAttemptAt: at(retryDelayMs(state.attempts + 1, 1_000)),
        reason: 'DUPLICATE_BATCH_NOT_NAMED',
      });
  });
});

describe('resendAllowed (a payout sent but never named)', () => {
  const sentAt = new Date('2030-01-01T00:00:00Z');
  const window = 25 * 86_400_000;
  const after = (ms: number) => new Date(sentAt.getTime() + ms);

  it("sends again only within the provider's window after the first send", () => {
    expect(resendAllowed(sentAt, after(3_600_000), window)).toBe(true);
    expect(resendAllowed(sentAt, after(window), window)).toBe(true);
    expect(resendAllowed(sentAt, after(window + 1), window)).toBe(false);
    expect(resendAllowed(sentAt, after(31 * 86_400_000), window)).toBe(false);
  });

  it('always sends what was never sent, and through a provider without a window', () => {
    expect(resendAllowed(null, after(365 * 86_400_000), window)).toBe(true);
    expect(resendAllowed(sentAt, after(365 * 86_400_000), undefined)).toBe(true);
  });
});

describe('decideReconcile (a payout parked for reconciliation, settled by an admin)', () => {
  const parkedPayPal = { status: 'processing' as const, provider: 'paypal', reconciledReference: null };
  const completed = { outcome: 'completed' as const, providerReference: 'TX-1' };
  const failed = { outcome: 'failed' as const, providerReference: 'BATCH-1' };
  const code = (decision: ReturnType<typeof decideReconcile>) =>
    decision.ok ? null : [decision.refusal.code, decision.refusal.kind];

  it('completes or fails a processing payout parked for reconciliation', () => {
    expect(decideReconcile(parkedPayPal, { parked: true }, completed)).toEqual({
      ok: true,
      value: { kind: 'complete' },
    });
    expect(decideReconcile(parkedPayPal, { parked: true }, failed)).toEqual({
      ok: true,
      value: { kind: 'fail' },
    });
  });

  it('answers the same request again without a move; refuses another outcome or reference', () => {
    const done = { status: 'completed' as const, provider: 'paypal', reconciledReference: 'TX-1' };
    // Parked no more (cleared when it was reconciled).
    expect(decideReconcile(done, { parked: false }, completed)).toEqual({
      ok: true,
      value: { kind: 'unchanged' },
    });
    expect(
      code(decideReconcile(done, { parked: false }, { ...completed, providerReference: 'TX-2' })),
    ).toEqual(['WITHDRAWAL_ALREADY_RECONCILED', 'conflict']);
    expect(code(decideReconcile(done, { parked: false }, { ...failed, providerReference: 'TX-1' }))).toEqual([
      'WITHDRAWAL_ALREADY_RECONCILED',
      'conflict',
    ]);
  });

  it('refuses a payout the sender still follows, a manual one, and any other status', () => {
    expect(code(decideReconcile(parkedPayPal, { parked: false }, completed))).toEqual([
      'WITHDRAWAL_NOT_PARKED',
      'conflict',
    ]);
    for (const provider of ['manual', null])
      expect(code(decideReconcile({ ...parkedPayPal, provider }, { parked: true }, completed))).toEqual([
        'WITHDRAWAL_IS_MANUAL',
        'conflict',
      ]);
    for (const status of [
      'requested',
      'pending_review',
      'approved',
      'completed',
      'failed',
      'rejected',
      'cancelled',
    ] as const)
      expect(code(decideReconcile({ ...parkedPayPal, status }, { parked: true }, failed))).toEqual([
        'WITHDRAWAL_NOT_RECONCILED',
        'conflict',
      ]);
  });
});

describe('decidePaidByHand', () => {
  it('records by hand only what the manual provider pays', () => {
    expect(decidePaidByHand({ withdrawal: 'manual', configured: 'paypal' })).toEqual({
      ok: true,
      value: undefined,
    });
    expect(decidePaidByHand({ withdrawal: null, configured: 'manual' }).ok).toBe(true);
    for (const provider of [
      { withdrawal: 'paypal', configured: 'manual' },
      { withdrawal: null, configured: 'paypal' },
    ]) {
      const refused = decidePaidByHand(provider);
      expect(refused.ok ? null : [refused.refusal.code, refused.refusal.kind]).toEqual([
        'WITHDRAWAL_NOT_MANUAL',
        'conflict',
      ]);
    }
  });
});
