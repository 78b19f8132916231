// Campaigns: their lifecycle (draft → funding → active ⇄ paused → completed | cancelled), their
// money as tasks sees it, what they do by themselves, invitations, and the end_at schedule.
export * from './decide.ts';
export { fundingGranted, fundingRefused, ledgerMoved, type LedgerContext } from './funding.ts';
export { campaignNotFound } from './handle.ts';
export * from './money.ts';
export { deferReconciles, reconcileCampaign, reconcileDeferred } from './reconcile.ts';
export { type CampaignRecord, findCampaign, lockCampaigns } from './repository.ts';
export { campaignRoutes } from './routes.ts';
export { announceDueCloses, completeEndedCampaigns } from './schedule.ts';
