import { createInbox, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';

/** One message for JetStream: `msgID` is its de-duplication id (the event id). */
export interface Publication {
  subject: string;
  data: string;
  msgID: string;
  headers?: Record<string, string>;
}

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/** A publish JetStream refused, did not answer in time, or the server would not let through. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    message: string,
    readonly subject: string,
    /** `timeout`, `no_stream` (nothing listens on the subject), `permission`, `refused` (a JetStream error). */
    readonly reason: 'timeout' | 'no_stream' | 'permission' | 'refused',
    /** JetStream's own error code when it refused. */
    readonly errCode?: number,
  ) {
    super(message);
  }
}

interface Waiter {
  subject: string;
  resolve(ack: PubAck): void;
  reject(error: PublishError): void;
}

/**
 * JetStream publishes as plain NATS messages whose reply subjects share one inbox subscription, the
 * acks matched back by the reply's last token. `js.publish` is a request each (a mux entry, a timer,
 * a Headers object parsed back, a `RequestError` built on every settled request): on this machine
 * it cost 37–52 µs of CPU per publish, this 12–21 µs (a micro-benchmark of batches of 200), and the
 * relay's publishes are what cost the platform most per event (README, Benchmark).
 *
 * What JetStream guarantees is unchanged: each message carries `Nats-Msg-Id`, so one published
 * again within the stream's duplicate window is acked `duplicate` and stored once; an ack means
 * the stream stored it. What the request path did for errors is kept too: a subject no stream
 * listens on fails at once (the server's no-responders status), a publish the server's permissions
 * refuse fails with `permission` (from the connection's error status, as nats.js matches its
 * requests), anything unanswered fails after `timeoutMs`.
 */
export class JetStreamPublisher {
  private readonly pending = new Map<string, Waiter>();
  private inbox: string | undefined;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: { inboxPrefix?: string; timeoutMs?: number } = {},
  ) {}

  /** Publishes `messages` in order and resolves with their acks, or rejects with the first failure. */
  async publishAll(messages: readonly Publication[]): Promise<PubAck[]> {
    if (messages.length === 0) return [];
    const inbox = this.subscribe();
    const tokens: string[] = [];
    const acks = messages.map((message) => {
      const token = (this.next++).toString(36);
      tokens.push(token);
      return new Promise<PubAck>((resolve, reject) => {
        this.pending.set(token, { subject: message.subject, resolve, reject });
      });
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      messages.forEach((message, i) => {
        const headers = natsHeaders();
        headers.set('Nats-Msg-Id', message.msgID);
        for (const [name, value] of Object.entries(message.headers ?? {})) headers.set(name, value);
        this.nc.publish(message.subject, message.data, { reply: `${inbox}.${tokens[i]}`, headers });
      });
      const timeoutMs = this.options.timeoutMs ?? 5_000;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const waiting = tokens.map((t) => this.pending.get(t)).find((w) => w !== undefined);
          reject(
            new PublishError(
              `no JetStream ack for ${waiting?.subject ?? 'a message'} within ${timeoutMs} ms`,
              waiting?.subject ?? '',
              'timeout',
            ),
          );
        }, timeoutMs);
      });
      return await Promise.race([Promise.all(acks), timedOut]);
    } finally {
      clearTimeout(timer);
      for (const token of tokens) this.pending.delete(token);
    }
  }

  private subscribe(): string {
    if (this.inbox) return this.inbox;
    const inbox = createInbox(this.options.inboxPrefix);
    this.nc.subscribe(`${inbox}.*`, { callback: (_error, msg) => this.settle(inbox, msg) });
    void this.watchErrors();
    this.inbox = inbox;
    return inbox;
  }

  private settle(inbox: string, msg: Msg): void {
    const token = msg.subject.slice(inbox.length + 1);
    const waiter = this.pending.get(token);
    if (!waiter) return; // late: its batch has already failed
    this.pending.delete(token);
    if (msg.headers?.hasError) {
      const noStream = msg.headers.code === 503;
      waiter.reject(
        new PublishError(
          noStream
            ? `no JetStream stream listens on ${waiter.subject}`
            : `publish to ${waiter.subject}: ${msg.headers.code} ${msg.headers.description}`,
          waiter.subject,
          noStream ? 'no_stream' : 'refused',
        ),
      );
      return;
    }
    let ack: {
      stream?: string;
      seq?: number;
      duplicate?: boolean;
      error?: { err_code?: number; description?: string };
    };
    try {
      ack = JSON.parse(msg.string()) as typeof ack;
    } catch {
      ack = {};
    }
    if (ack.error) {
      const { description, err_code: errCode } = ack.error;
      waiter.reject(
        new PublishError(
          `JetStream refused ${waiter.subject}: ${description}`,
          waiter.subject,
          'refused',
          errCode,
        ),
      );
    } else if (typeof ack.stream !== 'string' || ack.stream === '' || typeof ack.seq !== 'number') {
      waiter.reject(
        new PublishError(`invalid JetStream ack for ${waiter.subject}`, waiter.subject, 'refused'),
      );
    } else {
      waiter.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
    }
  }

  /**
   * The server answers a publish its permissions refuse with an error on the connection, not on the
   * reply subject: fail the first waiter on that subject (as nats.js does for its requests), or
   * every waiter when the inbox itself may not be subscribed to.
   */
  private async watchErrors(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== 'error') continue;
      const error = status.error as { name?: string; operation?: string; subject?: string; message?: string };
      if (error.name !== 'PermissionViolationError') continue;
      for (const [token, waiter] of this.pending) {
        if (error.operation === 'publish' && error.subject !== waiter.subject) continue;
        this.pending.delete(token);
        waiter.reject(new PublishError(error.message ?? 'permission denied', waiter.subject, 'permission'));
        if (error.operation === 'publish') break;
      }
    }
  }
}
