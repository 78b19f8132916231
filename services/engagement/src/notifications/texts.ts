import type { EventData, EventType } from '@tessera/contracts';
import { type JudgeFee, judgeFeeOf } from '../judge-fees.ts';

/**
 * What a notification says, decided from the event alone (no I/O). Texts name amounts, levels,
 * badge codes and reason codes, never anything personal; `data` carries the ids a client links to.
 */
export interface NotificationDraft {
  userId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  data: Record<string, unknown>;
  /** One cause notifies once: `(userId, sourceKey)` is unique. */
  sourceKey: string;
}

export const notificationKinds = [
  'submission_approved',
  'submission_rejected',
  'submission_revision_requested',
  'money_received',
  'withdrawal_approved',
  'withdrawal_processing',
  'withdrawal_completed',
  'withdrawal_failed',
  'withdrawal_rejected',
  'withdrawal_on_hold',
  'withdrawal_hold_lifted',
  'badge_unlocked',
  'level_changed',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

interface Money {
  amount: number;
  currency: string;
}

/** `1250 USD` → `12.50 USD`: minor units in the currency's own exponent (JPY has none). */
/** Minor-unit digits per currency code, as Intl knows them (an Intl.NumberFormat costs dearly). */
const currencyDigits = new Map<string, number>();

function digitsOf(currency: string): number {
  let digits = currencyDigits.get(currency);
  if (digits === undefined) {
    digits = 2;
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      // An unknown code keeps two decimals.
    }
    // Event payloads carry three-letter codes: at most 17,576 of them.
    currencyDigits.set(currency, digits);
  }
  return digits;
}

export function formatMoney({ amount, currency }: Money): string {
  const digits = digitsOf(currency);
  return `${(amount / 10 ** digits).toFixed(digits)} ${currency}`;
}

type Texts = { [T in EventType]?: (data: EventData<T>) => NotificationDraft };

const withdrawalTexts = {
  approved: (amount: string) => `Your withdrawal of ${amount} was approved and will be sent shortly.`,
  processing: (amount: string) => `Your withdrawal of ${amount} is on its way to your payout method.`,
  completed: (amount: string) => `Your withdrawal of ${amount} was paid out.`,
  failed: (amount: string, reason: string) =>
    `Your withdrawal of ${amount} could not be paid (${reason}). The amount is back in your available balance.`,
  rejected: (amount: string, reason: string) =>
    `Your withdrawal of ${amount} was rejected (${reason}). The amount is back in your available balance.`,
};

function withdrawal(
  status: keyof typeof withdrawalTexts,
  data: { withdrawal_id: string; user_id: string; amount: Money; reason_code?: string },
): NotificationDraft {
  const titles = {
    approved: 'Withdrawal approved',
    processing: 'Withdrawal processing',
    completed: 'Withdrawal paid',
    failed: 'Withdrawal failed',
    rejected: 'Withdrawal rejected',
  };
  return {
    userId: data.user_id,
    kind: `withdrawal_${status}`,
    title: titles[status],
    body: withdrawalTexts[status](formatMoney(data.amount), data.reason_code ?? ''),
    data: {
      withdrawal_id: data.withdrawal_id,
      amount: data.amount,
      ...(data.reason_code ? { reason_code: data.reason_code } : {}),
    },
    sourceKey: `withdrawal-${status}:${data.withdrawal_id}`,
  };
}

/** A judge's fee received, for a real review or a honeypot: nothing in it tells which. */
function judgeFeeText(fee: JudgeFee): NotificationDraft {
  return {
    userId: fee.judge_id,
    kind: 'money_received',
    title: 'Review fee received',
    body: `${formatMoney(fee.amount)} for your review is in your balance.`,
    data: { reason: 'judge_fee', amount: fee.amount, review_id: fee.review_id },
    sourceKey: `money:${fee.transfer_id}`,
  };
}

/** The events that notify someone, each with what it says. */
export const eventTexts: Texts = {
  'submissions.submission.approved.v1': (data) => ({
    userId: data.contributor_id,
    kind: 'submission_approved',
    title: 'Submission approved',
    body: `Your submission was approved. Its reward of ${formatMoney(data.reward)} is on its way to your balance.`,
    data: { submission_id: data.submission_id, task_id: data.task_id, reward: data.reward },
    sourceKey: `submission-approved:${data.submission_id}`,
  }),
  'submissions.submission.rejected.v1': (data) => ({
    userId: data.contributor_id,
    kind: 'submission_rejected',
    title: 'Submission rejected',
    body: `Your submission was not accepted (${(data.reason_codes ?? [data.reason_code]).join(', ')}).`,
    data: {
      submission_id: data.submission_id,
      task_id: data.task_id,
      reason_code: data.reason_code,
      reason_codes: data.reason_codes ?? [data.reason_code],
      ...(data.stage ? { stage: data.stage } : {}),
    },
    // A submission may be refused at review and again after its revision: one notice per stage.
    sourceKey: `submission-rejected:${data.submission_id}:${data.stage ?? 'review'}`,
  }),
  'submissions.submission.revision-requested.v1': (data) => ({
    userId: data.contributor_id,
    kind: 'submission_revision_requested',
    title: 'Revision requested',
    body:
      `A reviewer asked for one revision of your submission` +
      (data.reason_codes.length > 0 ? ` (${data.reason_codes.join(', ')})` : '') +
      `. Hand it in before ${data.deadline}.`,
    data: {
      submission_id: data.submission_id,
      task_id: data.task_id,
      reason_codes: data.reason_codes,
      deadline: data.deadline,
    },
    sourceKey: `submission-revision-requested:${data.submission_id}`,
  }),
  'ledger.reward.paid.v1': (data) => ({
    userId: data.contributor_id,
    kind: 'money_received',
    title: 'Reward received',
    body: `${formatMoney(data.amount)} for your approved submission is in your balance.`,
    data: { reason: 'reward', amount: data.amount, submission_id: data.submission_id },
    sourceKey: `money:${data.transfer_id}`,
  }),
  // A real review's fee and a honeypot's say the same (judge-fees.ts): the judge must not tell them apart.
  'ledger.judge-fee.paid.v1': (data) => judgeFeeText(judgeFeeOf(data)),
  'ledger.honeypot-fee.paid.v1': (data) => judgeFeeText(judgeFeeOf(data)),
  'ledger.promotion.paid.v1': (data) => ({
    userId: data.user_id,
    kind: 'money_received',
    title: data.kind === 'referral' ? 'Referral reward received' : 'Bonus received',
    body:
      data.kind === 'referral'
        ? `${formatMoney(data.amount)} for a referral is in your balance.`
        : `A bonus of ${formatMoney(data.amount)} is in your balance.`,
    data: { reason: data.kind, amount: data.amount, source_id: data.source_id },
    sourceKey: `money:${data.transfer_id}`,
  }),
  'payouts.withdrawal.approved.v1': (data) => withdrawal('approved', data),
  'payouts.withdrawal.processing.v1': (data) => withdrawal('processing', data),
  'payouts.withdrawal.completed.v1': (data) => withdrawal('completed', data),
  'payouts.withdrawal.failed.v1': (data) => withdrawal('failed', data),
  'payouts.withdrawal.rejected.v1': (data) => withdrawal('rejected', data),
  'engagement.badge.unlocked.v1': (data) => ({
    userId: data.user_id,
    kind: 'badge_unlocked',
    title: 'Badge unlocked',
    body:
      `You unlocked the badge "${data.code}"` +
      (data.xp_bonus > 0 ? ` and earned ${data.xp_bonus} bonus XP.` : '.'),
    data: { badge_id: data.badge_id, code: data.code, xp_bonus: data.xp_bonus },
    sourceKey: `badge:${data.badge_id}`,
  }),
};

/** What a hold of a withdrawal means for its user, by its reason; another reason is told by its code. */
const holdReasons: Record<string, { onHold: string; lifted: string }> = {
  ACCOUNT_SUSPENDED: {
    onHold:
      'while your account is suspended: it will not be approved or sent until your account is reinstated',
    lifted: 'Your account was reinstated: ',
  },
};

/**
 * A withdrawal put on hold by its user's account (`payouts.withdrawal.frozen.v1`), or taken off it
 * (`unfrozen`). A withdrawal may go on hold and off it more than once (suspended, reinstated,
 * suspended again): each change is its own cause, so the event's id keys it, as a level change.
 */
export function withdrawalHoldText(
  change: 'on_hold' | 'hold_lifted',
  data: { withdrawal_id: string; user_id: string; amount: Money; reason_code: string },
  eventId: string,
): NotificationDraft {
  const amount = formatMoney(data.amount);
  const reason = Object.hasOwn(holdReasons, data.reason_code) ? holdReasons[data.reason_code] : undefined;
  const body =
    change === 'on_hold'
      ? `Your withdrawal of ${amount} is on hold ` +
        (reason?.onHold ??
          `(${data.reason_code}): it will not be approved or sent until the hold is lifted`) +
        '. The amount stays reserved for it.'
      : reason
        ? `${reason.lifted}your withdrawal of ${amount} is no longer on hold and goes ahead.`
        : `Your withdrawal of ${amount} is no longer on hold (${data.reason_code}) and goes ahead.`;
  return {
    userId: data.user_id,
    kind: `withdrawal_${change}`,
    title: change === 'on_hold' ? 'Withdrawal on hold' : 'Withdrawal no longer on hold',
    body,
    data: { withdrawal_id: data.withdrawal_id, amount: data.amount, reason_code: data.reason_code },
    sourceKey: `withdrawal-${change === 'on_hold' ? 'on-hold' : 'hold-lifted'}:${eventId}`,
  };
}

/**
 * A level change, told against the level the user was last told about (1, where they start, when
 * never). Null when nothing changed (a replay of an older event).
 */
export function levelChangedText(
  userId: string,
  level: number,
  previous: number,
  eventId: string,
): NotificationDraft | null {
  if (level === previous) return null;
  const up = level > previous;
  return {
    userId,
    kind: 'level_changed',
    title: up ? 'Level up' : 'Level decreased',
    body: up ? `You reached level ${level}.` : `Your level went down from ${previous} to ${level}.`,
    data: { level, previous_level: previous, direction: up ? 'up' : 'down' },
    // A level can be reached, lost and reached again: each change is its own cause.
    sourceKey: `level:${eventId}`,
  };
}
