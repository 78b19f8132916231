import { describe, expect, it } from 'vitest';
import { batches } from './subscription.ts';

async function collect<T>(source: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const batch of source) out.push(batch);
  return out;
}

describe('batches', () => {
  it('groups what is ready together, up to the maximum', async () => {
    async function* ready() {
      yield* [1, 2, 3, 4, 5];
    }
    expect(await collect(batches(ready(), 2, 50))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('does not hold a batch back waiting for more', async () => {
    async function* slow() {
      yield 1;
      yield 2;
      await new Promise((resolve) => setTimeout(resolve, 100));
      yield 3;
    }
    expect(await collect(batches(slow(), 10, 5))).toEqual([[1, 2], [3]]);
  });

  it('ends with its source', async () => {
    async function* none() {}
    expect(await collect(batches(none(), 10, 5))).toEqual([]);
  });
});
