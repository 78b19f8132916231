import type { ServiceContext } from '@tessera/service-kit';
import type { SubmissionsConfig } from './config.ts';
import type { SubmissionsDB } from './db/schema.ts';
import type { MediaStorage } from './media/storage.ts';

/** What submissions opens besides the kit's pool: where media bytes live. */
export interface SubmissionsResources {
  storage: MediaStorage;
}

/** What submissions' routes, consumers and workers are given. */
export type SubmissionsContext = ServiceContext<SubmissionsDB, SubmissionsConfig, SubmissionsResources>;
