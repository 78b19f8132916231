import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the kit's consumers report: one series per consumer (a handful per service). */
export interface ConsumerMetrics {
  /** Events applied (duplicates included) in a committed transaction of `events`. */
  committed(consumer: string, events: number): void;
  /** A handler failed; the event will be delivered again. */
  failed(consumer: string): void;
  deadLettered(consumer: string, code: string): void;
  /** Messages the server still holds for the consumer, as the last delivery reported. */
  pending(consumer: string, pending: number): void;
  /**
   * Where to ask, at each scrape, what the server holds for each consumer now: a consumer that
   * receives nothing any more (stopped, stuck) would otherwise keep the value of its last delivery.
   * A consumer the answer leaves out keeps its last value.
   */
  pendingOnScrape(read: () => Promise<ReadonlyMap<string, number>>): void;
}

/** What the outbox relay reports. */
export interface RelayMetrics {
  /** A batch was published: its size and how long its oldest event waited since commit. */
  published(events: number, oldestWaitSeconds: number): void;
}

/** What periodic jobs report. */
export interface JobMetrics {
  /** One item of a run failed and was left for a later run (`eachOnItsOwn`). */
  itemFailed(job: string): void;
  /** An item failed often enough in a row to be left out of the job's runs (parked-items.ts). */
  itemParked(job: string): void;
}

export interface ServiceMetrics {
  /** The service's own registry (several services can share a process in tests). */
  registry: Registry;
  /** HTTP requests by method, route pattern (never the raw URL) and status code. */
  http: Histogram<'method' | 'route' | 'status_code'>;
  consumers: ConsumerMetrics;
  relay: RelayMetrics;
  jobs: JobMetrics;
  /** A gauge read at scrape time (the outbox backlog, a service's own figures). */
  gaugeOnScrape(name: string, help: string, read: () => Promise<number>): void;
  /** A histogram of the service's own (`tessera_<service>_...`), in its registry. */
  histogram<L extends string = never>(
    name: string,
    help: string,
    options?: { buckets?: number[]; labelNames?: readonly L[] },
  ): Histogram<L>;
}

/** Seconds, from a millisecond to ten seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics of one service, every series labelled with `service`. Names follow the
 * Prometheus conventions (base units, `_total` counters, `tessera_` for our own).
 */
export function createServiceMetrics(
  service: string,
  options: { processMetrics?: boolean } = {},
): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // Process metrics (CPU, memory, event loop lag, GC) describe the process, so only its entry
  // point turns them on: tests run several services in one process.
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const handled = new Counter({
    name: 'tessera_consumer_events_total',
    help: 'Events applied by a consumer in committed transactions (duplicates included).',
    labelNames: ['consumer'] as const,
    registers,
  });
  const transactions = new Histogram({
    name: 'tessera_consumer_batch_events',
    help: "Events per consumer transaction (the kit's batching).",
    labelNames: ['consumer'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers,
  });
  const failures = new Counter({
    name: 'tessera_consumer_failures_total',
    help: 'Handler failures; the event is delivered again with backoff.',
    labelNames: ['consumer'] as const,
    registers,
  });
  const deadLetters = new Counter({
    name: 'tessera_consumer_dead_letters_total',
    help: 'Events parked in dead_letters, by reason.',
    labelNames: ['consumer', 'code'] as const,
    registers,
  });
  let readPending: (() => Promise<ReadonlyMap<string, number>>) | undefined;
  const pending = new Gauge({
    name: 'tessera_consumer_pending_messages',
    help: 'Messages the stream still holds for the consumer (its lag), asked of the server at each scrape.',
    labelNames: ['consumer'] as const,
    registers,
    async collect() {
      if (!readPending) return;
      const counts = await readPending().catch(() => new Map<string, number>());
      for (const [consumer, count] of counts) this.set({ consumer }, count);
    },
  });
  const relayed = new Counter({
    name: 'tessera_outbox_published_total',
    help: 'Outbox events published to JetStream.',
    registers,
  });
  const relayWait = new Histogram({
    name: 'tessera_outbox_relay_wait_seconds',
    help: "How long a batch's oldest event waited between its commit and its publication.",
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const jobItemsParked = new Counter({
    name: 'tessera_job_items_parked_total',
    help: 'Items a periodic job gave up on after failing on them repeatedly; they wait for an operator (GET /api/v1/admin/<service>/parked-items).',
    labelNames: ['job'] as const,
    registers,
  });

  const jobItemFailures = new Counter({
    name: 'tessera_job_item_failures_total',
    help: "Items a periodic job's run could not handle and left for a later run (one that keeps failing grows it every run).",
    labelNames: ['job'] as const,
    registers,
  });

  return {
    registry,
    http,
    jobs: {
      itemFailed: (job) => jobItemFailures.inc({ job }),
      itemParked: (job) => jobItemsParked.inc({ job }),
    },
    consumers: {
      committed(consumer, events) {
        handled.inc({ consumer }, events);
        transactions.observe({ consumer }, events);
      },
      failed: (consumer) => failures.inc({ consumer }),
      deadLettered: (consumer, code) => deadLetters.inc({ consumer, code }),
      pending: (consumer, count) => pending.set({ consumer }, count),
      pendingOnScrape(read) {
        readPending = read;
      },
    },
    relay: {
      published(events, oldestWaitSeconds) {
        relayed.inc(events);
        relayWait.observe(Math.max(0, oldestWaitSeconds));
      },
    },
    histogram(name, help, options = {}) {
      return new Histogram({
        name,
        help,
        buckets: options.buckets ?? LATENCY_BUCKETS,
        labelNames: options.labelNames ?? [],
        registers,
      });
    },
    gaugeOnScrape(name, help, read) {
      let last = 0;
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          // A failed read (the database down) keeps the last value: failing the whole scrape would
          // make the service look down (`up == 0`) when its readiness check names the cause.
          last = await read().catch(() => last);
          this.set(last);
        },
      });
    },
  };
}
