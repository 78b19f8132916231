import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeEventStoreContract } from './event-store.contract.ts';
import { createMemoryEventStore } from './memory-store.ts';

describeEventStoreContract('memory', async () => ({ store: createMemoryEventStore() }));

describe('memory event store', () => {
  it('keeps the log independent of objects the caller holds', async () => {
    const store = createMemoryEventStore();
    const data = { list: [1] };
    await store.append([{ stream: 's', expected: 'any', events: [{ id: randomUUID(), type: 't', data }] }]);
    data.list.push(2);
    const [read] = await store.readStream('s');
    (read!.data.list as number[]).push(3);
    expect((await store.readStream('s'))[0]!.data).toEqual({ list: [1] });
  });

  it('refuses a checkpoint it did not issue', async () => {
    const store = createMemoryEventStore();
    await expect(store.readAll({ after: 'nonsense' })).rejects.toThrow(TypeError);
  });
});
