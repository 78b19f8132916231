import type { ServiceContext } from '@tessera/service-kit';
import type { QcConfig } from './config.ts';
import type { QcDB } from './db/schema.ts';

/** What QC's routes, consumers and workers are given. */
export type QcContext = ServiceContext<QcDB, QcConfig>;
