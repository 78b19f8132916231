import { randomUUID } from 'node:crypto';
import { streamFor, subjectFor } from '@tessera/contracts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readStream, testPrefix } from '../testing/index.ts';
import { type Bus, connectBus, ensureStream } from './bus.ts';
import { JetStreamPublisher, PublishError } from './publisher.ts';

let bus: Bus;
let subject: (name: string) => string;

beforeAll(async () => {
  bus = await connectBus({ url: inject('natsUrl'), name: 'publisher-test', prefix: testPrefix() });
  await ensureStream(bus, 'diagnostics');
  subject = (name) => subjectFor(`diagnostics.${name}`, bus.ns);
});

afterAll(async () => {
  await bus?.close();
});

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('JetStream publisher', () => {
  it('stores a batch in order and answers each message with its ack', async () => {
    const before = await readStream(bus, 'diagnostics');
    const messages = Array.from({ length: 300 }, (_, i) => ({
      subject: subject('probe.recorded.v1'),
      data: JSON.stringify({ n: i }),
      msgID: randomUUID(),
    }));
    const acks = await bus.publisher.publishAll(messages);
    expect(acks).toHaveLength(300);
    expect(new Set(acks.map((a) => a.stream))).toEqual(new Set([streamFor('diagnostics', bus.ns).name]));
    expect(acks.map((a) => a.seq)).toEqual(acks.map((_, i) => acks[0]!.seq + i));
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    const stored = (await readStream(bus, 'diagnostics')).slice(before.length);
    expect(stored.map((m) => (m.data as { n: number }).n)).toEqual(messages.map((_, i) => i));
  });

  it('stores a message published again with the same id once, acking the second as a duplicate', async () => {
    const before = (await readStream(bus, 'diagnostics')).length;
    const message = { subject: subject('probe.recorded.v1'), data: '{"again":true}', msgID: randomUUID() };
    const [first] = await bus.publisher.publishAll([message]);
    const [second] = await bus.publisher.publishAll([message]);
    expect(first!.duplicate).toBe(false);
    expect(second).toEqual({ stream: first!.stream, seq: first!.seq, duplicate: true });
    expect((await readStream(bus, 'diagnostics')).length).toBe(before + 1);
  });

  it('carries the given headers with the message', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const [ack] = await bus.publisher.publishAll([
      { subject: subject('probe.recorded.v1'), data: '{}', msgID: randomUUID(), headers: { traceparent } },
    ]);
    const stored = await bus.jsm.streams.getMessage(ack!.stream, { seq: ack!.seq });
    expect(stored?.header.get('traceparent')).toBe(traceparent);
  });

  it('fails at once on a subject no stream listens on', async () => {
    const started = Date.now();
    const error = await rejection(
      bus.publisher.publishAll([
        { subject: subjectFor(`nowhere.${randomUUID()}`, bus.ns), data: '{}', msgID: randomUUID() },
      ]),
    );
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ reason: 'no_stream' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails after its timeout when nothing acks, and a later batch is not disturbed', async () => {
    // A plain subscriber that never answers: the server sees interest, so no "no responders".
    const silent = subjectFor(`silent.${randomUUID()}`, bus.ns);
    const sub = bus.nc.subscribe(silent);
    try {
      const publisher = new JetStreamPublisher(bus.nc, { timeoutMs: 300 });
      const started = Date.now();
      const error = await rejection(
        publisher.publishAll([{ subject: silent, data: '{}', msgID: randomUUID() }]),
      );
      expect(error).toMatchObject({ name: 'PublishError', reason: 'timeout', subject: silent });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      const [ack] = await publisher.publishAll([
        { subject: subject('probe.recorded.v1'), data: '{}', msgID: randomUUID() },
      ]);
      expect(ack!.duplicate).toBe(false);
    } finally {
      sub.unsubscribe();
    }
  });
});
