import type { JobTrigger, ServiceContext } from '@tessera/service-kit';
import type { ClaimArrivals } from './claims/arrivals.ts';
import type { SubmissionsConfig } from './config.ts';
import type { SubmissionsDB } from './db/schema.ts';
import type { MediaStorage } from './media/storage.ts';

/** What submissions opens besides the kit's pool: where media bytes live, and how intake wakes screening. */
export interface SubmissionsResources {
  storage: MediaStorage;
  /** Pulled after a hand-in commits: pre-validation starts at once instead of at its next interval. */
  screening: JobTrigger;
  /** Notified as claims and tasks are stored here: wakes the hand-ins that wait for them. */
  claimArrivals: ClaimArrivals;
}

/** What submissions' routes, consumers and workers are given. */
export type SubmissionsContext = ServiceContext<SubmissionsDB, SubmissionsConfig, SubmissionsResources>;
