import { loadConfig, serviceConfigSchema } from '@tessera/service-kit';
import { z } from 'zod';

const ratio = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);

/** QC's environment: the kit's variables plus its own, parsed once at start. */
export const qcConfigSchema = serviceConfigSchema.extend({
  /** How long a judge holds a leased review before it goes back to the pool. */
  QC_LEASE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(10),
  /** The posterior a verdict must reach to be decided without more judges. */
  QC_CONFIDENCE_THRESHOLD: z.coerce.number().min(0.5).max(0.999).default(0.9),
  /** The most judges a submission gets before it escalates, when its claim does not say (max_judges). */
  QC_MAX_OVERLAP: z.coerce.number().int().min(1).max(15).default(5),
  /** Who may judge without an appointment: at least this level and trust score (engagement's). */
  QC_JUDGE_MIN_LEVEL: z.coerce.number().int().min(1).default(3),
  QC_JUDGE_MIN_TRUST: z.coerce.number().min(0).max(10).default(7),
  /**
   * A lease picks at random among this many of the oldest open cases the judge may take, so
   * judges leasing back to back (colluding accounts) do not all get the same case; 1: the oldest.
   */
  QC_LEASE_AMONG_OLDEST: z.coerce.number().int().min(1).max(100).default(10),
  /** One review in this many is a honeypot, when one is available (0: never). */
  QC_HONEYPOT_EVERY: z.coerce.number().int().min(0).max(1000).default(10),
  /** A judge whose honeypot accuracy falls below the floor after this many honeypots loses judging. */
  QC_ACCURACY_FLOOR: ratio(0.7),
  QC_PRUNE_MIN_HONEYPOTS: z.coerce.number().int().min(1).default(20),
  /** The verdicts a pruned judge's votes decided this far back are judged again. */
  QC_REJUDGE_DAYS: z.coerce.number().int().min(0).max(90).default(7),
  /**
   * An open case no judge holds, still wanting votes, goes to the admin queue after waiting this
   * long in the pool (or at once when too few judges are left who could take it).
   */
  QC_CASE_ESCALATE_AFTER_HOURS: z.coerce
    .number()
    .min(1)
    .max(90 * 24)
    .default(48),
  /** How often the case-escalation worker looks for cases waiting in vain. */
  QC_CASE_ESCALATION_INTERVAL_MS: z.coerce.number().int().min(20).default(60_000),
  /** How often expired leases go back to the pool. */
  QC_LEASE_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(20).default(5_000),
  /**
   * A honeypot review is counted and paid as long after its submission as a real review takes to
   * settle: the delay of one of the latest real settlements, drawn at random; this one when QC has
   * none yet (reviews/decide.ts `decideHoneypotFeeDelay`).
   */
  QC_HONEYPOT_FEE_DELAY_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(900),
  /** How often the honeypot-fees worker counts and pays the honeypot reviews that fell due. */
  QC_HONEYPOT_FEE_INTERVAL_MS: z.coerce.number().int().min(20).default(5_000),
});

export type QcConfig = z.infer<typeof qcConfigSchema>;

export function loadQcConfig(env: NodeJS.ProcessEnv = process.env): QcConfig {
  return loadConfig(qcConfigSchema, env);
}
