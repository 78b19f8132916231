import { randomUUID } from 'node:crypto';
import type { TesseraEvent } from '@tessera/contracts';
import type { InstanceSignals } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { ARRIVAL_TOPIC, arrivalOf, claimArrivals } from './arrivals.ts';

/** Signals in memory, shared by the instances made from it (the kit's are tested on a real NATS). */
function signalsBetweenInstances() {
  const listeners = new Set<{ topic: string; hear: (payload: string) => void }>();
  const sent: [string, string][] = [];
  const signals: InstanceSignals = {
    send(topic, payload) {
      sent.push([topic, payload]);
      for (const listener of [...listeners]) if (listener.topic === topic) listener.hear(payload);
    },
    listen(topic, hear) {
      const listener = { topic, hear };
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { signals, sent, listening: () => listeners.size };
}

describe('claim arrivals', () => {
  it('wakes every waiter for the id notified, and only them', async () => {
    const arrivals = claimArrivals();
    const id = randomUUID();
    const other = randomUUID();
    const first = arrivals.waitFor(id, 10_000);
    const second = arrivals.waitFor(id.toUpperCase(), 10_000);
    const elsewhere = arrivals.waitFor(other, 30);
    expect(arrivals.waiting()).toBe(3);
    arrivals.notify(id);
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(arrivals.waiting()).toBe(1);
    expect(await elsewhere).toBe(false);
    expect(arrivals.waiting()).toBe(0);
  });

  it('gives up after its time, or when told to, and leaves no waiter behind', async () => {
    const arrivals = claimArrivals();
    const id = randomUUID();
    const started = Date.now();
    expect(await arrivals.waitFor(id, 30)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const done = new AbortController();
    const aborted = arrivals.waitFor(id, 10_000, done.signal);
    expect(arrivals.waiting()).toBe(1);
    done.abort();
    expect(await aborted).toBe(false);
    expect(await arrivals.waitFor(id, 10_000, done.signal)).toBe(false);
    expect(await arrivals.waitFor(id, 0)).toBe(false);
    expect(arrivals.waiting()).toBe(0);
    // A notification nobody waits for is not kept: a later waiter still waits.
    arrivals.notify(id);
    expect(await arrivals.waitFor(id, 30)).toBe(false);
  });

  it('wakes the waiters of another instance, which hears only well-formed ids, until it closes', async () => {
    const bus = signalsBetweenInstances();
    const storing = claimArrivals(bus.signals);
    const waiting = claimArrivals(bus.signals);
    const id = randomUUID();
    const woken = waiting.waitFor(id, 10_000);
    storing.notify(id.toUpperCase());
    expect(await woken).toBe(true);
    expect(bus.sent).toEqual([[ARRIVAL_TOPIC, id]]);

    // A payload that is no id wakes nobody, and costs no lookup.
    const still = waiting.waitFor(id, 50);
    bus.signals.send(ARRIVAL_TOPIC, `${id} `);
    bus.signals.send(ARRIVAL_TOPIC, 'x'.repeat(10_000));
    expect(await still).toBe(false);

    expect(bus.listening()).toBe(2);
    waiting.close();
    expect(bus.listening()).toBe(1);
    const closed = waiting.waitFor(id, 50);
    storing.notify(id);
    expect(await closed).toBe(false);
  });

  it('names the claim of a claimed event, the task of a task event, nothing else', () => {
    const event = (type: string, data: object) => ({ type, data }) as unknown as TesseraEvent;
    const [assignment_id, task_id] = [randomUUID(), randomUUID()];
    expect(arrivalOf(event('tasks.assignment.claimed.v1', { assignment_id, task_id }))).toBe(assignment_id);
    expect(arrivalOf(event('tasks.task.published.v1', { task_id }))).toBe(task_id);
    expect(arrivalOf(event('tasks.task.updated.v1', { task_id }))).toBe(task_id);
    expect(arrivalOf(event('tasks.assignment.released.v1', { assignment_id }))).toBeUndefined();
  });
});
