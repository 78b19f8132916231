import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../store/event-store.ts';
import { createProjectedTransfers } from './projected.ts';

const event = (stream: string) => ({ stream }) as RecordedEvent;

describe('the projector’s commits as read-after-write wake-ups', () => {
  it('wakes the waiters of a transfer when a commit carries its stream, and no one else', async () => {
    const projected = createProjectedTransfers();
    const woken: string[] = [];
    const a = projected.next('a', 60_000);
    const b = projected.next('b', 60_000);
    void a.woken.then(() => woken.push('a'));
    void b.woken.then(() => woken.push('b'));

    projected.committed([event('account-user:x:available@EUR'), event('transfer-a')]);
    await a.woken;
    await Promise.resolve();
    expect(woken).toEqual(['a']);
    b.cancel();
    await b.woken;
    expect(woken).toEqual(['a', 'b']);
  });

  it('gives up after the time given, so another instance’s projector is still seen', async () => {
    const projected = createProjectedTransfers();
    const started = Date.now();
    await projected.next('never', 30).woken;
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
