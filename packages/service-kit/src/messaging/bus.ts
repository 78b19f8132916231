import { jetstream, type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Namespace, namespace, streamFor } from '@tessera/contracts';
import { JetStreamPublisher } from './publisher.ts';

/** A NATS connection with its JetStream handles and the namespace every subject lives in. */
export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** JetStream publishes a batch at a time, cheaper than `js.publish` (publisher.ts). */
  publisher: JetStreamPublisher;
  ns: Namespace;
  close(): Promise<void>;
}

export interface BusOptions {
  url: string;
  name: string;
  prefix?: string;
  /** The service's NATS user (its name) and password; the server grants it only its permissions. */
  user?: string;
  password?: string;
  /** A CA file: connect over TLS and verify the server against it. */
  tlsCa?: string;
}

export async function connectBus(options: BusOptions): Promise<Bus> {
  // A user may subscribe only to its own inbox prefix (infra/nats/src/permissions.ts).
  const inboxPrefix = options.user ? `_INBOX.${options.user}` : undefined;
  const nc = await connect({
    servers: options.url.split(',').map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: -1,
    ...(options.user ? { user: options.user, pass: options.password ?? '' } : {}),
    ...(inboxPrefix ? { inboxPrefix } : {}),
    ...(options.tlsCa ? { tls: { caFile: options.tlsCa } } : {}),
    // Every JetStream publish is a request; with async traces each one captures two stacks up
    // front (about a fifth of the relay's CPU). A timed-out request then loses its caller's stack.
    noAsyncTraces: true,
  });
  const jsm = await jetstreamManager(nc);
  return {
    nc,
    js: jetstream(nc),
    jsm,
    publisher: new JetStreamPublisher(nc, inboxPrefix ? { inboxPrefix } : {}),
    ns: namespace(options.prefix ?? ''),
    async close() {
      if (!nc.isClosed()) await nc.drain();
    },
  };
}

const DAY_NS = 24 * 60 * 60 * 1e9;

/**
 * The stream of a producing service, bound to `<producer>.>`: limits retention
 * with a long max_age so that a consumer added later can replay history, and a
 * de-duplication window that covers a relay restarting after publish, before mark.
 */
export async function ensureStream(
  bus: Bus,
  producer: string,
  options: { maxAgeDays?: number; replicas?: number } = {},
): Promise<string> {
  const { name, subjects } = streamFor(producer, bus.ns);
  const config = {
    name,
    subjects,
    max_age: (options.maxAgeDays ?? 365) * DAY_NS,
    duplicate_window: 10 * 60 * 1e9,
    num_replicas: options.replicas ?? 1,
  };
  try {
    await bus.jsm.streams.info(name);
    await bus.jsm.streams.update(name, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await bus.jsm.streams.add(config);
  }
  return name;
}

/**
 * A stream this service only reads: used when it exists. When absent, creating it is tried (an open
 * server in a single-service test); a server that refuses that to this service's user leaves it to
 * its producer, and this waits until the producer has created it (logged once).
 */
export async function awaitStream(
  bus: Bus,
  producer: string,
  options: {
    replicas?: number;
    log?: (message: string) => void;
    /** Backoff between polls, doubling from the first to the second. */
    pollMs?: [number, number];
  } = {},
): Promise<string> {
  const { name } = streamFor(producer, bus.ns);
  const [first, most] = options.pollMs ?? [100, 5_000];
  let delay = first;
  let logged = false;
  for (;;) {
    try {
      await bus.jsm.streams.info(name);
      return name;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      return await ensureStream(bus, producer, options.replicas ? { replicas: options.replicas } : {});
    } catch (error) {
      if (!isPermissionDenied(error)) throw error;
    }
    if (!logged) {
      options.log?.(`waiting for stream ${name}: ${producer} creates it (this service may only read it)`);
      logged = true;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, most);
  }
}

export function isPermissionDenied(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/permissions? violation/i.test(e.message) || e.name === 'PermissionViolationError') return true;
  }
  return false;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}
