import { currencyCode } from '@tessera/contracts';
import {
  developmentSecretMessage,
  knownDevelopmentSecret,
  loadConfig,
  serviceConfigSchema,
} from '@tessera/service-kit';
import { parsePrivateKey } from './audit/seal.ts';
import { z } from 'zod';

/** The ledger's variables on top of the kit's, without the checks that span several. */
export const ledgerVariables = serviceConfigSchema.extend({
  /** Where the ledger's event stream lives; projections are always in DATABASE_URL. */
  LEDGER_EVENT_STORE: z.enum(['postgres', 'kurrentdb']).default('postgres'),
  KURRENTDB_URL: z.string().min(1).optional(),
  /** The currency HTTP writes accept and reads report unless asked for another. */
  LEDGER_CURRENCY: currencyCode.default('USD'),
  /**
   * The platform fee on campaign funding, in basis points of the budget (1000 = 10%). The seeds
   * name no figure; 10% is our default. The fee is rounded down to whole minor units.
   */
  PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /**
   * Ed25519 private key (base64 PKCS#8 DER or PEM) the sealer signs seals with. Required in
   * production; elsewhere, when unset, one is generated once and kept in the database (docs/audit.md).
   */
  LEDGER_SEAL_PRIVATE_KEY: z.string().min(1).optional(),
  /**
   * What bonuses and referral rewards from engagement may pay per calendar month (UTC), in minor
   * units of each currency: 1 000 000 (10 000.00) by default. Beyond it a promotion is refused.
   */
  LEDGER_PROMOTIONS_BUDGET_MINOR: z.coerce.number().int().nonnegative().default(1_000_000),
  /**
   * The most one admin top-up or adjustment may move, minor units: 10 000 000 (100 000.00) by
   * default, so one mistaken amount cannot overflow `world` or empty promotions.
   */
  LEDGER_ADMIN_MAX_AMOUNT_MINOR: z.coerce.number().int().positive().default(10_000_000),
  /** How often the expiry job looks for pending transfers past their expiry time. */
  LEDGER_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** How often the projector polls the store when no commit notification wakes it. */
  LEDGER_PROJECTION_POLL_MS: z.coerce.number().int().min(10).default(500),
  /** How long a write waits for the projections to include it before it answers anyway. */
  LEDGER_READ_AFTER_WRITE_MS: z.coerce.number().int().min(0).max(30_000).default(3_000),
});

/** The ledger's environment: the kit's variables plus the ledger's own, parsed once at start. */
export const ledgerConfigSchema = ledgerVariables
  .refine((config) => config.LEDGER_EVENT_STORE !== 'kurrentdb' || config.KURRENTDB_URL !== undefined, {
    path: ['KURRENTDB_URL'],
    message: 'is required when LEDGER_EVENT_STORE=kurrentdb',
  })
  .refine((config) => config.NODE_ENV !== 'production' || config.LEDGER_SEAL_PRIVATE_KEY !== undefined, {
    path: ['LEDGER_SEAL_PRIVATE_KEY'],
    message: 'is required in production (a generated key kept in the database proves nothing)',
  })
  .superRefine((config, context) => {
    if (config.NODE_ENV !== 'production' || config.LEDGER_SEAL_PRIVATE_KEY === undefined) return;
    const committed = committedSealKey(config.LEDGER_SEAL_PRIVATE_KEY);
    if (committed !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['LEDGER_SEAL_PRIVATE_KEY'],
        message: developmentSecretMessage(committed),
      });
    }
  });

/** Which committed development key this is, by its Ed25519 seed (so PEM and DER forms match). */
function committedSealKey(configured: string): string | undefined {
  try {
    const { d } = parsePrivateKey(configured.trim()).export({ format: 'jwk' });
    return d === undefined ? undefined : knownDevelopmentSecret(Buffer.from(d, 'base64url'));
  } catch {
    return undefined;
  }
}

export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;

export function loadLedgerConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  return loadConfig(ledgerConfigSchema, env);
}
