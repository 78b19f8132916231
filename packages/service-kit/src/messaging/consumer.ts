import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import {
  type EventType,
  EventValidationError,
  parseEvent,
  producerOf,
  streamFor,
  subjectFor,
  type TesseraEvent,
} from '@tessera/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { KitTables } from '../db/kit-migrations.ts';
import type { Logger } from '../logger.ts';
import type { Bus } from './bus.ts';

export type EventHandler<DB, T extends EventType = EventType> = (
  event: TesseraEvent<T>,
  trx: Transaction<DB>,
) => Promise<void>;

export type HandlerMap<DB> = { [T in EventType]?: EventHandler<DB, T> };

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
  /** Deliveries before a failing event is dead-lettered. */
  maxDeliver?: number;
  /** Delay before each redelivery after a failure; the last value repeats. */
  backoffMs?: number[];
  /** Redelivery after a crash that left a message unacknowledged. */
  ackWaitMs?: number;
  /** Fault injection for tests: runs after commit, before ack; throwing kills the consumer there. */
  hooks?: { afterCommit?: (event: TesseraEvent) => void | Promise<void> };
}

export type ProcessOutcome = 'applied' | 'duplicate' | 'ignored' | 'retry' | 'dead-lettered';

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
 * its inbox row and is acked without effect. Invalid events and events that
 * still fail after `maxDeliver` deliveries go to `dead_letters`.
 * Messages are handled one at a time, in stream order.
 */
export class EventConsumer<DB extends KitTables> {
  readonly name: string;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxDeliver: number;
  private readonly backoffMs: number[];

  constructor(private readonly options: EventConsumerOptions<DB>) {
    this.name = options.name;
    this.maxDeliver = options.maxDeliver ?? 5;
    this.backoffMs = options.backoffMs ?? [1_000, 5_000, 30_000, 120_000];
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
      // ourselves after maxDeliver, before running the handler again, which also
      // ends a message that crashes the process on every delivery.
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
    this.messages = await consumer.consume({ max_messages: 32 });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const msg of messages) {
        try {
          await this.process(msg);
        } catch (error) {
          if (error instanceof CrashSimulated) break;
          throw error;
        }
      }
    })().catch((error: unknown) =>
      this.options.logger.error({ err: error, consumer: name }, 'consumer loop died'),
    );
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  /** Handles one delivery. Exposed for tests; the loop calls it for every message. */
  async process(msg: JsMsg): Promise<ProcessOutcome> {
    const deliveries = msg.info.deliveryCount;
    const raw = msg.string();
    let event: TesseraEvent;
    try {
      event = parseEvent(JSON.parse(raw));
    } catch (error) {
      const code: DeadLetterCode = error instanceof EventValidationError ? error.code : 'MALFORMED_JSON';
      return this.deadLetter(msg, code, error, undefined);
    }
    const forged = this.provenanceProblem(msg.subject, event);
    if (forged) return this.deadLetter(msg, 'WRONG_PROVENANCE', new Error(forged), event);
    const handler = this.handlerFor(event.type);
    if (!handler) {
      msg.ack();
      return 'ignored';
    }
    if (deliveries > this.maxDeliver) {
      return this.deadLetter(msg, 'HANDLER_FAILED', new Error(`delivered ${deliveries} times`), event);
    }
    let applied: boolean;
    try {
      applied = await this.apply(event, handler);
    } catch (error) {
      if (deliveries >= this.maxDeliver) return this.deadLetter(msg, 'HANDLER_FAILED', error, event);
      const delay = this.backoffMs[Math.min(deliveries, this.backoffMs.length) - 1] ?? 1_000;
      this.options.logger.warn(
        { err: error, event_id: event.id, type: event.type, deliveries },
        'handler failed; will retry',
      );
      msg.nak(delay);
      return 'retry';
    }
    try {
      await this.options.hooks?.afterCommit?.(event);
    } catch {
      // Leave the message unacked, as a dead process would; the loop stops reading.
      throw new CrashSimulated();
    }
    msg.ack();
    return applied ? 'applied' : 'duplicate';
  }

  /** Runs the handler once per event id for this consumer; false when already applied. */
  async apply(event: TesseraEvent, handler: EventHandler<DB>): Promise<boolean> {
    return this.options.db.transaction().execute(async (trx) => {
      const kit = trx as unknown as Transaction<KitTables>;
      const claimed = await kit
        .insertInto('inbox')
        .values({ consumer: this.name, event_id: event.id, type: event.type })
        .onConflict((oc) => oc.doNothing())
        .returning('event_id')
        .executeTakeFirst();
      if (!claimed) return false;
      await handler(event, trx);
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
    msg.term(code);
    return 'dead-lettered';
  }
}
