import { describe, expect, it } from 'vitest';
import { createServiceMetrics } from './service-metrics.ts';

describe('a gauge read at scrape time', () => {
  it('keeps its last value when a read fails, and the scrape still answers', async () => {
    const metrics = createServiceMetrics('probe');
    const reads: (() => Promise<number>)[] = [
      () => Promise.resolve(3),
      () => Promise.reject(new Error('connection refused')),
      () => Promise.resolve(5),
    ];
    metrics.gaugeOnScrape('tessera_probe_waiting', 'Things waiting.', () => reads.shift()!());
    const value = async () =>
      /^tessera_probe_waiting\{service="probe"\} (\d+)$/m.exec(await metrics.registry.metrics())?.[1];
    expect(await value()).toBe('3');
    expect(await value()).toBe('3');
    expect(await value()).toBe('5');
  });

  it("sets each consumer's lag from the server at scrape time, leaving out those it cannot say", async () => {
    const metrics = createServiceMetrics('probe');
    metrics.consumers.pending('a', 7);
    metrics.consumers.pending('b', 9);
    metrics.consumers.pendingOnScrape(() => Promise.resolve(new Map([['a', 2]])));
    const text = await metrics.registry.metrics();
    expect(text).toContain('tessera_consumer_pending_messages{consumer="a",service="probe"} 2');
    expect(text).toContain('tessera_consumer_pending_messages{consumer="b",service="probe"} 9');
  });
});
