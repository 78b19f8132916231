import { containerRuntimeAnswers } from '@tessera/devstack';
import { GenericContainer, Wait } from 'testcontainers';
import { describe, it } from 'vitest';
import { describeEventStoreContract } from './event-store.contract.ts';
import { createKurrentDbEventStore } from './kurrentdb-store.ts';

const IMAGE = 'docker.kurrent.io/kurrent-latest/kurrentdb';

async function startKurrentContainer(): Promise<{ url: string; stop(): Promise<void> }> {
  const container = await new GenericContainer(IMAGE)
    .withEnvironment({
      KURRENTDB_INSECURE: 'true',
      KURRENTDB_MEM_DB: 'true',
      KURRENTDB_RUN_PROJECTIONS: 'None',
    })
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113))
    .start();
  return {
    url: `kurrentdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
    stop: async () => void (await container.stop()),
  };
}

const url = process.env.KURRENTDB_URL;
const containers = url ? false : await containerRuntimeAnswers();
const reachable = Boolean(url) || containers;
const why =
  'KurrentDB contract suite skipped: KURRENTDB_URL is not set and no container runtime answers ' +
  `(testcontainers would start ${IMAGE}).`;

if (!reachable) console.warn(`[ledger store] ${why}`);

describe.skipIf(!reachable)('KurrentDB event store', () => {
  describeEventStoreContract('kurrentdb', async () => {
    const server = url ? { url, stop: async () => undefined } : await startKurrentContainer();
    return { store: createKurrentDbEventStore({ connection: server.url }), cleanup: server.stop };
  });
});

describe.skipIf(reachable)('KurrentDB event store (no server)', () => {
  it.skip(why, () => undefined);
});
