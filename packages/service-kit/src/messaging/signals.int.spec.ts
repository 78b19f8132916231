import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testPrefix } from '../testing/index.ts';
import { type Bus, connectBus } from './bus.ts';
import { instanceSignals } from './signals.ts';

// Two connections to one real nats-server: two instances of one service.
let first: Bus;
let second: Bus;
let otherRun: Bus;

beforeAll(async () => {
  const prefix = testPrefix();
  first = await connectBus({ url: inject('natsUrl'), name: 'signals-a', prefix });
  second = await connectBus({ url: inject('natsUrl'), name: 'signals-b', prefix });
  otherRun = await connectBus({ url: inject('natsUrl'), name: 'signals-c', prefix: testPrefix() });
});

afterAll(async () => {
  for (const bus of [first, second, otherRun]) await bus?.close();
});

function heard(bus: Bus, service: string, topic: string) {
  const payloads: string[] = [];
  const stop = instanceSignals(bus, service).listen(topic, (payload) => payloads.push(payload));
  return { payloads, stop };
}

async function flushed(): Promise<void> {
  for (const bus of [first, second, otherRun]) await bus.nc.flush();
  // The server has the publishes; give the deliveries their turn.
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('instance signals', () => {
  it('reach every instance of the service, the sender included, on that topic only', async () => {
    const here = heard(first, 'diagnostics', 'claim-arrived');
    const there = heard(second, 'diagnostics', 'claim-arrived');
    const otherTopic = heard(second, 'diagnostics', 'task-arrived');
    const otherService = heard(second, 'elsewhere', 'claim-arrived');
    const otherNamespace = heard(otherRun, 'diagnostics', 'claim-arrived');
    await flushed();

    instanceSignals(first, 'diagnostics').send('claim-arrived', 'a');
    instanceSignals(second, 'diagnostics').send('claim-arrived', 'b');
    await flushed();

    expect(here.payloads.sort()).toEqual(['a', 'b']);
    expect(there.payloads.sort()).toEqual(['a', 'b']);
    expect([otherTopic.payloads, otherService.payloads, otherNamespace.payloads]).toEqual([[], [], []]);
    for (const listener of [here, there, otherTopic, otherService, otherNamespace]) listener.stop();
  });

  it('stop once unsubscribed, and a send on a closed connection is dropped without a throw', async () => {
    const there = heard(second, 'diagnostics', 'gone');
    await flushed();
    there.stop();
    there.stop();
    instanceSignals(first, 'diagnostics').send('gone', 'x');
    await flushed();
    expect(there.payloads).toEqual([]);

    const closing = await connectBus({ url: inject('natsUrl'), name: 'signals-d', prefix: testPrefix() });
    await closing.close();
    expect(() => instanceSignals(closing, 'diagnostics').send('gone', 'y')).not.toThrow();
  });

  it('refuse a topic that is not one subject token', () => {
    const signals = instanceSignals(first, 'diagnostics');
    for (const topic of ['', 'a.b', '>', '*', 'Upper', 'a b']) {
      expect(() => signals.send(topic, 'x'), topic).toThrow(TypeError);
      expect(() => signals.listen(topic, () => undefined), topic).toThrow(TypeError);
    }
  });
});
