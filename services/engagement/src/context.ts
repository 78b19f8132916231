import type { ServiceContext } from '@tessera/service-kit';
import type { EngagementConfig } from './config.ts';
import type { EngagementDB } from './db/schema.ts';

/** What engagement's routes, consumers and workers are given. */
export type EngagementContext = ServiceContext<EngagementDB, EngagementConfig>;
