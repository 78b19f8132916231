import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { namespace, streamFor } from '@tessera/contracts';
import { inboxPrefixFor } from '../../nats/src/permissions.ts';

/** Every producer's stream, as the services name them (the local runner uses no prefix). */
const PRODUCERS = ['engagement', 'identity', 'ledger', 'payouts', 'qc', 'submissions', 'tasks'];

export interface ConsumerBacklog {
  /** `<stream>/<consumer>` */
  consumer: string;
  /** Messages the stream holds that the consumer has not been given yet. */
  pending: number;
  /** Messages given and not yet acknowledged: in a handler, or waiting out a redelivery backoff. */
  ackPending: number;
}

/**
 * What JetStream still holds for each service's durable consumers, asked as that service (the
 * runner's generated passwords: a service may read its own consumers' state only). A platform whose
 * databases stopped changing can still owe work: a message nak'ed with a 30 s or 2 min backoff
 * changes no table until it comes back, so quiescence also waits for every consumer to be empty.
 */
export async function consumerBacklogs(
  natsUrl: string,
  dataDir: string,
  consumersOf: (service: string) => Promise<string[]>,
): Promise<ConsumerBacklog[]> {
  const passwords = JSON.parse(await readFile(path.join(dataDir, 'nats-passwords.json'), 'utf8')) as Record<
    string,
    string
  >;
  const backlogs: ConsumerBacklog[] = [];
  for (const [service, password] of Object.entries(passwords)) {
    const names = await consumersOf(service);
    if (names.length === 0) continue;
    const nc = await connect({
      servers: natsUrl,
      user: service,
      pass: password,
      // A service user may only subscribe below its own inbox prefix.
      inboxPrefix: inboxPrefixFor(service),
      reconnect: false,
      timeout: 5_000,
    });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000 });
      for (const name of names) {
        for (const producer of PRODUCERS) {
          const stream = streamFor(producer, namespace()).name;
          const info = await jsm.consumers.info(stream, name).catch(() => undefined);
          if (!info) continue;
          backlogs.push({
            consumer: `${stream}/${name}`,
            pending: info.num_pending,
            ackPending: info.num_ack_pending,
          });
        }
      }
    } finally {
      await nc.close();
    }
  }
  return backlogs;
}
