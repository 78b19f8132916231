import { randomInt } from 'node:crypto';
import type { ServiceContext } from '@tessera/service-kit';
import type { QcConfig } from './config.ts';
import type { Random } from './consensus/prng.ts';
import type { QcDB } from './db/schema.ts';

/**
 * What QC opens besides the kit's, injected like the clock: the random source honeypot turns are
 * drawn from (`startQc`'s `random`; the operating system's by default, tests pin it).
 */
export interface QcResources {
  random: Random;
}

/** What QC's routes, consumers and workers are given. */
export type QcContext = ServiceContext<QcDB, QcConfig, QcResources>;

const RANGE = 2 ** 32;

/** Uniform in [0, 1) from the operating system's CSPRNG: nothing a judge sees predicts it. */
export const cryptoRandom: Random = () => randomInt(RANGE) / RANGE;
