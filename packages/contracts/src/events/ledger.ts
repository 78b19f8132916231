import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';

/** The id of a ledger transfer: the idempotency key every movement of money carries. */
const transferId = entityId;

/**
 * Ledger: outcomes of the money movements other services asked for. Every event names the
 * transfer(s) that carry it, so a consumer can reconcile against an audit export.
 */
export const ledgerEvents = [
  defineEvent('ledger.campaign.funded.v1', {
    description:
      "The campaign's budget moved from the company's credits into escrow, and the platform fee into revenue, in one linked step.",
    data: z.object({
      campaign_id: entityId,
      company_id: entityId,
      budget: money,
      fee: money,
      transfer_ids: z.array(transferId).min(1).max(10),
    }),
  }),
  defineEvent('ledger.campaign.funding-rejected.v1', {
    description: 'The campaign could not be funded; nothing moved.',
    data: z.object({
      campaign_id: entityId,
      company_id: entityId,
      budget: money,
      reason_code: reasonCode,
      detail: z.string().max(500),
    }),
  }),
  defineEvent('ledger.campaign.budget-returned.v1', {
    description: "A completed or cancelled campaign's remaining budget went back to the company's credits.",
    data: z.object({ campaign_id: entityId, company_id: entityId, amount: money, transfer_id: transferId }),
  }),
  defineEvent('ledger.reward.paid.v1', {
    description: "An approved submission's reward moved from the campaign's budget to the contributor.",
    data: z.object({
      submission_id: entityId,
      campaign_id: entityId,
      contributor_id: entityId,
      amount: money,
      transfer_id: transferId,
      campaign_remaining: money,
    }),
  }),
  defineEvent('ledger.reward.failed.v1', {
    description: "An approved submission's reward could not be paid (the campaign's budget ran short).",
    data: z.object({
      submission_id: entityId,
      campaign_id: entityId,
      contributor_id: entityId,
      amount: money,
      reason_code: reasonCode,
    }),
  }),
  defineEvent('ledger.judge-fee.paid.v1', {
    description: "A judge's fee moved from the campaign's budget to the judge.",
    data: z.object({
      review_id: entityId,
      campaign_id: entityId,
      judge_id: entityId,
      amount: money,
      transfer_id: transferId,
      campaign_remaining: money,
    }),
  }),
  defineEvent('ledger.judge-fee.failed.v1', {
    description: "A judge's fee could not be paid (the campaign's budget ran short).",
    data: z.object({
      review_id: entityId,
      campaign_id: entityId,
      judge_id: entityId,
      amount: money,
      reason_code: reasonCode,
    }),
  }),
  defineEvent('ledger.honeypot-fee.paid.v1', {
    description:
      "A judge's fee for a honeypot review was paid: the platform's quality account funded the case's campaign budget with it and the budget paid the judge, in one linked step, so the judge's statement reads like any other fee and the campaign's balance is unchanged.",
    data: z.object({
      review_id: entityId,
      campaign_id: entityId,
      judge_id: entityId,
      amount: money,
      /** The funding transfer and the fee's, in that order. */
      transfer_ids: z.array(transferId).length(2),
    }),
  }),
  defineEvent('ledger.honeypot-fee.failed.v1', {
    description:
      "A judge's fee for a honeypot review was refused (above the claim's judge fee, a second fee for one judge on one submission, an unknown claim): nothing moved.",
    data: z.object({
      review_id: entityId,
      campaign_id: entityId,
      judge_id: entityId,
      amount: money,
      reason_code: reasonCode,
    }),
  }),
  defineEvent('ledger.withdrawal.hold-placed.v1', {
    description: "The withdrawal's amount is held (a pending transfer) and no longer available to the user.",
    data: z.object({ withdrawal_id: entityId, user_id: entityId, amount: money, transfer_id: transferId }),
  }),
  defineEvent('ledger.withdrawal.hold-rejected.v1', {
    description: 'No hold could be placed (insufficient available balance); nothing moved.',
    data: z.object({ withdrawal_id: entityId, user_id: entityId, amount: money, reason_code: reasonCode }),
  }),
  defineEvent('ledger.withdrawal.settled.v1', {
    description: 'The hold was posted: the money left the platform.',
    data: z.object({ withdrawal_id: entityId, user_id: entityId, amount: money, transfer_id: transferId }),
  }),
  defineEvent('ledger.withdrawal.hold-released.v1', {
    description: 'The hold was voided: the amount is available to the user again.',
    data: z.object({
      withdrawal_id: entityId,
      user_id: entityId,
      amount: money,
      transfer_id: transferId,
      reason_code: reasonCode,
    }),
  }),
  defineEvent('ledger.topup.recorded.v1', {
    description: "An external payment by a company was recorded in the company's credits.",
    data: z.object({ company_id: entityId, amount: money, transfer_id: transferId }),
  }),
  defineEvent('ledger.adjustment.applied.v1', {
    description: 'An admin credited (bonus) or debited (penalty) a user.',
    data: z.object({
      user_id: entityId,
      kind: z.enum(['bonus', 'penalty']),
      amount: money,
      transfer_id: transferId,
    }),
  }),
  defineEvent('ledger.promotion.paid.v1', {
    description: 'A bonus or referral reward from engagement was paid from the promotions account.',
    data: z.object({
      user_id: entityId,
      kind: z.enum(['bonus', 'referral']),
      source_id: entityId,
      amount: money,
      transfer_id: transferId,
    }),
  }),
] as const;
