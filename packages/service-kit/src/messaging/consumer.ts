import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import {
  type EventType,
  EventValidationError,
  parseEvent,
  producerOf,
  streamFor,
  subjectFor,
  type TesseraEvent,
  TRACEPARENT_PATTERN,
} from '@tessera/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { KitTables } from '../db/kit-migrations.ts';
import { isDatabaseUnavailable } from '../db/pg-errors.ts';
import { isUuid } from '../http/schemas.ts';
import type { Logger } from '../logger.ts';
import type { ConsumerMetrics } from '../metrics/service-metrics.ts';
import { inSpan, SpanKind, type Tracing } from '../tracing/tracing.ts';
import type { Bus } from './bus.ts';

export type EventHandler<DB, T extends EventType = EventType> = (
  event: TesseraEvent<T>,
  trx: Transaction<DB>,
) => Promise<void>;

export type HandlerMap<DB> = { [T in EventType]?: EventHandler<DB, T> };

/**
 * The distinct ids a batch's events name in these data fields, lower-cased and sorted: what a
 * `lockFirst` locks. A field that is absent or not a UUID names nothing.
 */
export function idsNamedBy(events: readonly { data: unknown }[], fields: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const { data } of events) {
    for (const field of fields) {
      const value = (data as Record<string, unknown> | null)?.[field];
      if (typeof value === 'string' && isUuid(value)) ids.add(value.toLowerCase());
    }
  }
  return [...ids].sort();
}

export interface EventConsumerOptions<DB extends KitTables> {
  /** The durable consumer's name, also its key in the inbox (e.g. "ledger"). */
  name: string;
  /** The producing service whose stream is read. */
  producer: string;
  /** One subject filter within the stream (nats-server 2.9 takes one); defaults to all of it. */
  filter?: string;
  handlers: HandlerMap<DB>;
  db: Kysely<DB>;
  bus: Bus;
  logger: Logger;
  /** Failures of its handler before an event is dead-lettered (a database that cannot be reached is no failure). */
  maxDeliver?: number;
  /**
   * Deliveries before an event is dead-lettered unhandled, whatever their cause: the guard against a
   * message that kills the process before its handler can fail. Default `maxDeliver` × 20.
   */
  maxDeliveries?: number;
  /** Delay before each redelivery after a failure; the last value repeats. */
  backoffMs?: number[];
  /** Redelivery after a crash that left a message unacknowledged. */
  ackWaitMs?: number;
  /** Most events applied in one transaction; what has arrived is taken without waiting for more. */
  batchSize?: number;
  /**
   * Lets the handlers of one batch run side by side: events with different keys are independent
   * (different claims, different users), events with the same key (or none) run in stream order.
   * Without it, a batch's handlers run one after another. Handlers share the batch's transaction,
   * so concurrency only overlaps what they await outside it (the ledger's engine).
   */
  partitionKey?: (event: TesseraEvent) => string | undefined;
  /**
   * Runs first in every transaction that applies events (a batch's claimed events, or one), before
   * any handler: takes, in one fixed order, the locks those handlers will take. Handlers lock rows
   * in event order, so two batches holding two campaigns (or users) in opposite orders deadlock,
   * and Postgres aborts one after `deadlock_timeout`. Locks taken here in a sorted order cannot
   * form that cycle; the handlers then find them held by their own transaction.
   */
  lockFirst?: (trx: Transaction<DB>, events: readonly TesseraEvent[]) => Promise<void>;
  /**
   * Runs last in every transaction that applies events, after every handler of the batch (or of the
   * one event): what the handlers asked to be done once per transaction rather than per event.
   */
  beforeCommit?: (trx: Transaction<DB>, events: readonly TesseraEvent[]) => Promise<void>;
  /**
   * Runs after commit, before ack: wakes what waits for an event's effect in this process (a
   * submissions hand-in waiting for its claim), and injects faults in tests. Throwing stands for the
   * process killed there, so a hook in production must not throw.
   */
  hooks?: { afterCommit?: (event: TesseraEvent) => void | Promise<void> };
  /** Where applied events, failures, dead letters and the consumer's lag are counted. */
  metrics?: ConsumerMetrics;
  /**
   * Each handler then runs in a span that continues the event's trace (the envelope's traceparent,
   * else the message's header): its log lines and the events it writes carry that trace.
   */
  tracing?: Tracing;
}

export type ProcessOutcome = 'applied' | 'duplicate' | 'ignored' | 'retry' | 'dead-lettered';

/** How the consumer's transactions were filled since it was created. */
export interface ConsumerStats {
  /** Committed transactions that applied events, and the events they held (duplicates included). */
  transactions: number;
  events: number;
  /** The most events one committed transaction held. */
  largestBatch: number;
  /** Batch transactions that failed, whose events were then applied one by one. */
  fallbacks: number;
}

/** A message that passed every check and has a handler: ready to be applied. */
interface Ready<DB> {
  msg: JsMsg;
  event: TesseraEvent;
  handler: EventHandler<DB>;
}

/** Why a message went to dead letters. Validation failures are not retried: they cannot heal. */
export type DeadLetterCode =
  | 'MALFORMED_JSON'
  | 'INVALID_ENVELOPE'
  | 'UNKNOWN_EVENT_TYPE'
  | 'INVALID_DATA'
  | 'WRONG_PROVENANCE'
  | 'HANDLER_FAILED';

class CrashSimulated extends Error {}

/**
 * A durable pull consumer that applies each event exactly once: the handler
 * runs in a transaction that first records (consumer, event id) in the inbox,
 * and the message is acked only after commit. A redelivered duplicate finds
 * its inbox row and is acked without effect. Invalid events and events whose
 * handler failed `maxDeliver` times go to `dead_letters`.
 *
 * Failures, not deliveries, are counted (in this process): a message is also
 * delivered again when the consumer was killed holding it, or kept it past
 * `ack_wait` in a backlog, and a 10,000-submission chaos run (177 kills) had
 * 5,860 events of a slow consumer dead-lettered unhandled by a delivery count
 * of 6. A database that cannot be reached is no failure of the event either.
 * Only past `maxDeliveries` deliveries is an event parked unhandled.
 *
 * Messages that have arrived are taken together (up to `batchSize`, never
 * waiting for more) and applied in stream order in one transaction with one
 * inbox insert; a batch whose transaction fails is handled again one message
 * at a time, so a poison event is retried and dead-lettered alone.
 */
export class EventConsumer<DB extends KitTables> {
  readonly name: string;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxDeliver: number;
  private readonly maxDeliveries: number;
  /** Handler failures by event id, in this process; bounded (the oldest forgotten first). */
  private readonly failures = new Map<string, number>();
  private readonly backoffMs: number[];
  private readonly batchSize: number;
  private readonly counts: ConsumerStats = { transactions: 0, events: 0, largestBatch: 0, fallbacks: 0 };

  constructor(private readonly options: EventConsumerOptions<DB>) {
    this.name = options.name;
    this.maxDeliver = options.maxDeliver ?? 5;
    this.maxDeliveries = options.maxDeliveries ?? this.maxDeliver * 20;
    this.backoffMs = options.backoffMs ?? [1_000, 5_000, 30_000, 120_000];
    this.batchSize = Math.max(1, options.batchSize ?? 128);
  }

  stats(): ConsumerStats {
    return { ...this.counts };
  }

  /**
   * Messages the server holds for this consumer now, not yet delivered; undefined when the server
   * cannot say (not started, the bus down, no answer within `timeoutMs`).
   */
  async pendingNow(timeoutMs = 1_000): Promise<number | undefined> {
    const { bus, producer, name } = this.options;
    const ask = bus.jsm.consumers.info(streamFor(producer, bus.ns).name, name).then(
      (info) => info.num_pending,
      () => undefined,
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([ask, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private get kit(): Kysely<KitTables> {
    return this.options.db as unknown as Kysely<KitTables>;
  }

  async start(): Promise<void> {
    const { bus, producer, name } = this.options;
    const stream = streamFor(producer, bus.ns).name;
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subjectFor(this.options.filter ?? `${producer}.>`, bus.ns),
      ack_wait: (this.options.ackWaitMs ?? 30_000) * 1e6,
      // No server-side cap: a capped server drops a message silently after its last
      // delivery, even when we could not park it (database down). We dead-letter
      // ourselves after maxDeliver failures, or past maxDeliveries deliveries
      // before running the handler again (a message that crashes the process).
      max_deliver: -1,
      max_ack_pending: 1_000,
    };
    try {
      await bus.jsm.consumers.add(stream, config);
    } catch (error) {
      if (!(error instanceof Error && /already in use|exists/i.test(error.message))) throw error;
      await bus.jsm.consumers.update(stream, name, config);
    }
    const consumer = await bus.js.consumers.get(stream, name);
    // consume() keeps pull requests open and buffers what the server sends (fetch() would wait for
    // a full batch or its expiry); the pump moves each message into `arrived` as soon as the
    // iterator yields it, and the batch loop takes all that is there, up to batchSize: a batch is
    // what arrived while the previous one was being applied, and a lone message goes alone.
    this.messages = await consumer.consume({ max_messages: Math.max(64, this.batchSize * 2) });
    const messages = this.messages;
    const arrived: JsMsg[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const pump = (async () => {
      try {
        for await (const msg of messages) {
          arrived.push(msg);
          wake?.();
        }
      } finally {
        ended = true;
        wake?.();
      }
    })();
    const inFlight: { msgs: readonly JsMsg[]; since: number } = { msgs: [], since: 0 };
    const keepAlive = this.keepHeldAlive(arrived, inFlight);
    const batches = (async () => {
      try {
        while (arrived.length > 0 || !ended) {
          if (arrived.length === 0) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
            // Woken by the first message: let the pump move the rest of what already arrived.
            await new Promise<void>((resolve) => setImmediate(resolve));
            continue;
          }
          inFlight.msgs = arrived.splice(0, this.batchSize);
          inFlight.since = Date.now();
          await this.processBatch(inFlight.msgs);
          inFlight.msgs = [];
        }
      } catch (error) {
        // A simulated crash leaves the rest unacked, as a dead process would.
        if (!(error instanceof CrashSimulated)) throw error;
      } finally {
        clearInterval(keepAlive);
        messages.stop();
      }
    })();
    this.loop = Promise.allSettled([pump, batches]).then((results) => {
      for (const result of results) {
        if (result.status === 'rejected') {
          this.options.logger.error({ err: result.reason, consumer: name }, 'consumer loop died');
        }
      }
    });
  }

  /**
   * Tells the server, every third of `ack_wait`, that the messages this process holds are being
   * worked on: those waiting in the buffer and the batch being applied. A slow consumer's buffer
   * otherwise outlives `ack_wait` and the server sends all of it again (the 10,000-submission chaos
   * run redelivered a slow consumer's backlog at every expiry). A batch still running after ten
   * times `ack_wait` is no longer vouched for, nor what waits behind it: another instance may take them.
   */
  private keepHeldAlive(arrived: readonly JsMsg[], inFlight: { msgs: readonly JsMsg[]; since: number }) {
    const ackWaitMs = this.options.ackWaitMs ?? 30_000;
    const timer = setInterval(() => {
      if (inFlight.msgs.length > 0 && Date.now() - inFlight.since > ackWaitMs * 10) return;
      try {
        for (const msg of inFlight.msgs) msg.working();
        for (const msg of arrived) msg.working();
      } catch {
        // The connection is closing: the server will redeliver what was not acked, as it should.
      }
    }, ackWaitMs / 3);
    timer.unref();
    return timer;
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  /**
   * Handles what arrived together: each message is checked alone (dead letters, unknown types),
   * the rest are applied in one transaction, hooks run after its commit, then every message is
   * acked. When that transaction fails, its messages are applied again one by one.
   */
  private async processBatch(msgs: readonly JsMsg[]): Promise<void> {
    const last = msgs[msgs.length - 1];
    if (last) this.options.metrics?.pending(this.name, last.info.pending);
    const ready: Ready<DB>[] = [];
    for (const msg of msgs) {
      const checked = await this.check(msg);
      if (!('outcome' in checked)) ready.push({ msg, ...checked });
    }
    if (ready.length === 1) await this.applyOne(ready[0]!);
    if (ready.length <= 1) return;
    try {
      await this.applyAll(ready);
    } catch (error) {
      this.counts.fallbacks += 1;
      this.options.logger.warn(
        { err: error, events: ready.length },
        'batch failed; applying its events one by one',
      );
      for (const item of ready) await this.applyOne(item);
      return;
    }
    this.committed(ready.length);
    if (this.failures.size > 0) for (const { event } of ready) this.failures.delete(event.id);
    for (const { event } of ready) await this.afterCommit(event);
    for (const { msg } of ready) msg.ack();
  }

  /** Handles one delivery in its own transaction. Exposed for tests. */
  async process(msg: JsMsg): Promise<ProcessOutcome> {
    const checked = await this.check(msg);
    if ('outcome' in checked) return checked.outcome;
    return this.applyOne({ msg, ...checked });
  }

  /** Applies one checked event alone; a failure is retried with backoff, then dead-lettered. */
  private async applyOne({ msg, event, handler }: Ready<DB>): Promise<ProcessOutcome> {
    const deliveries = msg.info.deliveryCount;
    let applied: boolean;
    try {
      applied = await this.apply(event, handler, msg);
    } catch (error) {
      const unavailable = isDatabaseUnavailable(error);
      const failures = unavailable ? (this.failures.get(event.id) ?? 0) : this.countFailure(event.id);
      if (failures >= this.maxDeliver) {
        this.failures.delete(event.id);
        return this.deadLetter(msg, 'HANDLER_FAILED', error, event);
      }
      const delay = this.backoffMs[Math.min(Math.max(failures, 1), this.backoffMs.length) - 1] ?? 1_000;
      this.options.logger.warn(
        { err: error, event_id: event.id, type: event.type, deliveries, failures, unavailable },
        'handler failed; will retry',
      );
      this.options.metrics?.failed(this.name);
      msg.nak(delay);
      return 'retry';
    }
    this.failures.delete(event.id);
    this.committed(1);
    await this.afterCommit(event);
    msg.ack();
    return applied ? 'applied' : 'duplicate';
  }

  private countFailure(eventId: string): number {
    const failures = (this.failures.get(eventId) ?? 0) + 1;
    this.failures.delete(eventId);
    this.failures.set(eventId, failures);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
    return failures;
  }

  private committed(events: number): void {
    this.options.metrics?.committed(this.name, events);
    this.counts.transactions += 1;
    this.counts.events += events;
    this.counts.largestBatch = Math.max(this.counts.largestBatch, events);
  }

  /**
   * Parses and checks one message. A malformed, invalid or misplaced event is dead-lettered, an
   * event this consumer has no handler for is acked, and one delivered more than `maxDeliveries` times
   * is dead-lettered before its handler runs again: all are settled here, never applied.
   */
  private async check(
    msg: JsMsg,
  ): Promise<{ outcome: ProcessOutcome } | { event: TesseraEvent; handler: EventHandler<DB> }> {
    let event: TesseraEvent;
    try {
      event = parseEvent(JSON.parse(msg.string()));
    } catch (error) {
      const code: DeadLetterCode = error instanceof EventValidationError ? error.code : 'MALFORMED_JSON';
      return { outcome: await this.deadLetter(msg, code, error, undefined) };
    }
    const forged = this.provenanceProblem(msg.subject, event);
    if (forged) return { outcome: await this.deadLetter(msg, 'WRONG_PROVENANCE', new Error(forged), event) };
    const handler = this.handlerFor(event.type);
    if (!handler) {
      msg.ack();
      return { outcome: 'ignored' };
    }
    const deliveries = msg.info.deliveryCount;
    if (deliveries > this.maxDeliveries) {
      const tooMany = new Error(`delivered ${deliveries} times`);
      return { outcome: await this.deadLetter(msg, 'HANDLER_FAILED', tooMany, event) };
    }
    return { event, handler };
  }

  /** A throwing hook stands for a process killed between commit and ack. */
  private async afterCommit(event: TesseraEvent): Promise<void> {
    try {
      await this.options.hooks?.afterCommit?.(event);
    } catch {
      throw new CrashSimulated();
    }
  }

  /**
   * One transaction for the batch: one inbox insert claims every event not yet handled, then the
   * handlers of the claimed ones run in stream order. An event carried by two messages of the batch
   * is claimed once and applied once.
   */
  private async applyAll(ready: readonly Ready<DB>[]): Promise<void> {
    await this.options.db.transaction().execute(async (trx) => {
      // Two array parameters whatever the batch's size: nothing to compile per row here, one short
      // statement for Postgres to parse (a row of VALUES per event took 3 parameters each).
      const { rows } = await sql<{ event_id: string }>`
        insert into inbox (consumer, event_id, type)
        select ${this.name}, event_id, type
        from unnest(${ready.map(({ event }) => event.id)}::uuid[], ${ready.map(({ event }) => event.type)}::text[])
          as claimed (event_id, type)
        on conflict do nothing
        returning event_id`.execute(trx);
      const claimed = new Set(rows.map((row) => row.event_id));
      const { lockFirst, beforeCommit } = this.options;
      const applied = ready.filter(({ event }) => claimed.has(event.id)).map(({ event }) => event);
      if (lockFirst) await lockFirst(trx, applied);
      const lanes = new Map<string | undefined, Ready<DB>[]>();
      for (const item of ready) {
        if (!claimed.delete(item.event.id)) continue;
        const key = this.options.partitionKey?.(item.event);
        lanes.set(key, [...(lanes.get(key) ?? []), item]);
      }
      // Lanes run side by side, each in stream order; every one settles before the transaction
      // ends, so no handler runs a statement after a rollback.
      const settled = await Promise.allSettled(
        [...lanes.values()].map(async (lane) => {
          for (const { msg, event, handler } of lane) await this.run(msg, event, () => handler(event, trx));
        }),
      );
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      if (beforeCommit && applied.length > 0) await beforeCommit(trx, applied);
    });
  }

  /** Runs a handler, in a span of the event's trace when the consumer is traced. */
  private async run(msg: JsMsg | undefined, event: TesseraEvent, handle: () => Promise<void>): Promise<void> {
    const { tracing, logger } = this.options;
    const applied = async () => {
      await handle();
      logger.debug({ event_id: event.id, type: event.type }, 'event applied');
    };
    if (!tracing) return applied();
    // The envelope's, validated with the event and parsed already; the header (which costs a decode)
    // for an event that carries none in its envelope.
    const header = event.traceparent ? undefined : msg?.headers?.get('traceparent');
    const traceparent = header && TRACEPARENT_PATTERN.test(header) ? header : event.traceparent;
    await inSpan(
      tracing,
      `${event.type} process`,
      {
        kind: SpanKind.CONSUMER,
        traceparent,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.destination.name': msg?.subject ?? subjectFor(event.type, this.options.bus.ns),
          'messaging.consumer.group.name': this.name,
          'messaging.message.id': event.id,
        },
      },
      applied,
    );
  }

  /** Runs the handler once per event id for this consumer; false when already applied. */
  async apply(event: TesseraEvent, handler: EventHandler<DB>, msg?: JsMsg): Promise<boolean> {
    return this.options.db.transaction().execute(async (trx) => {
      const kit = trx as unknown as Transaction<KitTables>;
      const claimed = await kit
        .insertInto('inbox')
        .values({ consumer: this.name, event_id: event.id, type: event.type })
        .onConflict((oc) => oc.doNothing())
        .returning('event_id')
        .executeTakeFirst();
      if (!claimed) return false;
      await this.options.lockFirst?.(trx, [event]);
      await this.run(msg, event, () => handler(event, trx));
      await this.options.beforeCommit?.(trx, [event]);
      return true;
    });
  }

  /**
   * An event is trusted only where it belongs: on its own type's subject, in its producer's stream,
   * from that producer. A valid event of one type published on another's subject (or claiming
   * another source) is refused, never applied.
   */
  private provenanceProblem(subject: string, event: TesseraEvent): string | undefined {
    const { producer, bus } = this.options;
    if (subject !== subjectFor(event.type, bus.ns)) {
      return `an event of type ${event.type} arrived on subject ${subject}`;
    }
    if (producerOf(event.type) !== producer || event.source !== producer) {
      return `an event of type ${event.type} from source ${event.source} in the ${producer} stream`;
    }
    return undefined;
  }

  handlerFor(type: string): EventHandler<DB> | undefined {
    return (this.options.handlers as Record<string, EventHandler<DB> | undefined>)[type];
  }

  private async deadLetter(
    msg: JsMsg,
    code: DeadLetterCode,
    error: unknown,
    event: TesseraEvent | undefined,
  ): Promise<ProcessOutcome> {
    const message = error instanceof Error ? error.message : String(error);
    try {
      await this.kit
        .insertInto('dead_letters')
        .values({
          consumer: this.name,
          event_id: event?.id ?? null,
          type: event?.type ?? null,
          nats_subject: msg.subject,
          stream_sequence: msg.seq,
          payload: msg.string(),
          error_code: code,
          error: message.slice(0, 4_000),
          deliveries: msg.info.deliveryCount,
        })
        .execute();
    } catch (storeError) {
      // Never drop a message we could not park: let the server redeliver it.
      this.options.logger.error({ err: storeError }, 'could not store dead letter; will retry');
      msg.nak(this.backoffMs[0] ?? 1_000);
      return 'retry';
    }
    this.options.logger.error(
      { code, error: message, subject: msg.subject, seq: msg.seq },
      'event dead-lettered',
    );
    this.options.metrics?.deadLettered(this.name, code);
    // No reason string: nats-server 2.9 ignores a "+TERM <reason>" and would redeliver the message
    // after ack_wait, parking it again and again. The reason is in dead_letters.
    msg.term();
    return 'dead-lettered';
  }
}
