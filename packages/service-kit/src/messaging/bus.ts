import { jetstream, type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Namespace, namespace, streamFor } from '@tessera/contracts';

/** A NATS connection with its JetStream handles and the namespace every subject lives in. */
export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  ns: Namespace;
  close(): Promise<void>;
}

export async function connectBus(options: { url: string; name: string; prefix?: string }): Promise<Bus> {
  const nc = await connect({
    servers: options.url.split(',').map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: -1,
  });
  const jsm = await jetstreamManager(nc);
  return {
    nc,
    js: jetstream(nc),
    jsm,
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

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}
