import type { Clock, ServiceMetrics } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';

/**
 * How many hand-ins wait for screening: due now, and put off after a fault of ours (storage, a
 * decoder) until their next attempt. A deferred count that stays above 0 means screening is
 * failing, and that work will reach judges unscreened once its attempts run out.
 */
export async function screeningQueue(
  db: Kysely<SubmissionsDB>,
  now: Date,
): Promise<{ due: number; deferred: number }> {
  const row = await db
    .selectFrom('submissions')
    .select((eb) => [
      eb.fn
        .countAll<string>()
        .filterWhere((f) => f.or([f('screening_retry_at', 'is', null), f('screening_retry_at', '<=', now)]))
        .as('due'),
      eb.fn.countAll<string>().filterWhere('screening_retry_at', '>', now).as('deferred'),
    ])
    .where('status', '=', 'received')
    .executeTakeFirstOrThrow();
  return { due: Number(row.due), deferred: Number(row.deferred) };
}

/** The queue as two gauges, read when Prometheus scrapes: one query serves both. */
export function registerScreeningGauges(
  metrics: ServiceMetrics,
  db: Kysely<SubmissionsDB>,
  clock: Clock,
): void {
  // A scrape collects its gauges at once; the second joins the query the first started.
  let reading: Promise<{ due: number; deferred: number }> | undefined;
  const read = () =>
    (reading ??= screeningQueue(db, clock()).finally(() => {
      reading = undefined;
    }));
  metrics.gaugeOnScrape(
    'tessera_submissions_screening_due',
    'Hand-ins waiting to be screened now.',
    async () => (await read()).due,
  );
  metrics.gaugeOnScrape(
    'tessera_submissions_screening_deferred',
    'Hand-ins put off after a fault of ours while screening them, waiting for their next attempt.',
    async () => (await read()).deferred,
  );
}
