import net from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { TEST_NATS_ENV } from './env.ts';
import { resolveNats } from './nats.ts';

/** The INFO line a NATS server sends to every new connection, parsed. */
function serverInfo(url: string): Promise<Record<string, unknown>> {
  const { hostname, port } = new URL(url.split(',')[0]!);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port || 4222) });
    let received = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no INFO line within 5 s')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received += chunk.toString();
      const end = received.indexOf('\r\n');
      if (end === -1) return;
      socket.destroy();
      const line = received.slice(0, end);
      if (!line.startsWith('INFO ')) reject(new Error(`not a NATS server: ${line}`));
      else resolve(JSON.parse(line.slice(5)) as Record<string, unknown>);
    });
  });
}

describe('NATS', () => {
  it('is provided by the global setup, with JetStream', async () => {
    expect(await serverInfo(inject('natsUrl'))).toMatchObject({ jetstream: true });
  });

  it('is resolved the way the tests resolve it', async () => {
    const nats = await resolveNats({ envNames: TEST_NATS_ENV });
    try {
      expect(await serverInfo(nats.url)).toMatchObject({ jetstream: true });
    } finally {
      await nats.stop();
    }
  });
});
