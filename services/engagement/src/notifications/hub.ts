import type { Logger } from '@tessera/service-kit';
import pg from 'pg';
import { z } from 'zod';
import { type Audience, audiences, audiencesOf } from './audience.ts';
import { NOTIFICATIONS_CHANNEL } from './notify.ts';

/** An open stream as the hub sees it: whose it is, and how to wake or end it. */
export interface Subscriber {
  userId: string;
  role: string | null;
  /** The session of the token that opened it (`sid`): its revocation ends the stream. */
  sessionId?: string | undefined;
  /** Something may have been committed for this stream: fetch what follows its last id. */
  wake(): void;
  end(): void;
  /** Checks again that its token's session and user still stand (after a lost LISTEN). */
  recheck?(): void;
}

const payloadSchema = z.union([
  z.object({ user_id: z.string(), id: z.string() }),
  z.object({ audience: z.enum(audiences), id: z.string() }),
  z.object({ end_user: z.string() }),
  z.object({ end_session: z.string() }),
]);

/**
 * One LISTEN connection per service instance, fanned out in memory to the open streams. A NOTIFY
 * only says whose stream to wake; each stream reads its rows itself, after its own last id, so a
 * lost, late or doubled NOTIFY costs a query, never a notification. When the connection drops, it is
 * opened again and every stream re-reads, which covers whatever was committed meanwhile.
 *
 * A NOTIFY may also end streams: those of a user suspended or erased, or of a revoked session
 * (`notify.ts:endStreams`, from the consumer that applies those events). After a lost connection
 * every stream checks its session and user again (`recheck`), which covers an end told meanwhile.
 */
export class NotificationHub {
  private readonly byUser = new Map<string, Set<Subscriber>>();
  private listener: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: { databaseUrl: string; logger: Logger; retryMs: number }) {}

  streamsOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /** Resolves once LISTEN is in place (opening it on the first stream); rejects if it cannot be. */
  listening(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the notification hub is closed'));
    if (this.listener) return Promise.resolve();
    return (this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    }));
  }

  /** Adds a stream; answers how to remove it. */
  add(subscriber: Subscriber): () => void {
    const set = this.byUser.get(subscriber.userId) ?? new Set<Subscriber>();
    set.add(subscriber);
    this.byUser.set(subscriber.userId, set);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.byUser.get(subscriber.userId) === set) this.byUser.delete(subscriber.userId);
    };
  }

  /** Ends every open stream and the LISTEN connection (the service is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    for (const set of [...this.byUser.values()]) for (const subscriber of [...set]) subscriber.end();
    this.byUser.clear();
    await this.connecting?.catch(() => undefined);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('notification', (message) => this.dispatch(message.payload));
    client.on('error', (error) => {
      this.options.logger.warn({ err: error }, 'notifications LISTEN connection failed');
      this.lost(client);
    });
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`listen ${NOTIFICATIONS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('the notification hub is closed');
    }
    this.listener = client;
  }

  private lost(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    void client.end().catch(() => undefined);
    this.reconnect();
  }

  private reconnect(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.listening().then(
        () => {
          this.options.logger.info('notifications LISTEN connection restored');
          this.wakeAll();
          this.recheckAll();
        },
        (error: unknown) => {
          this.options.logger.warn({ err: error }, 'notifications LISTEN reconnect failed; retrying');
          this.reconnect();
        },
      );
    }, this.options.retryMs);
  }

  private dispatch(raw: string | undefined): void {
    let parsed: z.infer<typeof payloadSchema>;
    try {
      parsed = payloadSchema.parse(JSON.parse(raw ?? ''));
    } catch {
      this.options.logger.warn('notifications: ignored a NOTIFY payload of unknown shape');
      return;
    }
    if ('user_id' in parsed) {
      for (const subscriber of this.byUser.get(parsed.user_id.toLowerCase()) ?? []) subscriber.wake();
      return;
    }
    if ('end_user' in parsed) {
      for (const subscriber of [...(this.byUser.get(parsed.end_user.toLowerCase()) ?? [])]) subscriber.end();
      return;
    }
    if ('end_session' in parsed) {
      const session = parsed.end_session.toLowerCase();
      for (const set of [...this.byUser.values()]) {
        for (const subscriber of [...set]) if (subscriber.sessionId === session) subscriber.end();
      }
      return;
    }
    this.wakeAll(parsed.audience);
  }

  /** Every stream checks its session and user again: an end told while LISTEN was down was missed. */
  private recheckAll(): void {
    for (const set of [...this.byUser.values()]) for (const subscriber of [...set]) subscriber.recheck?.();
  }

  /** Wakes every stream (after a reconnect), or those whose role an audience includes. */
  private wakeAll(audience?: Audience): void {
    for (const set of this.byUser.values()) {
      for (const subscriber of set) {
        if (!audience || audiencesOf(subscriber.role).includes(audience)) subscriber.wake();
      }
    }
  }
}
