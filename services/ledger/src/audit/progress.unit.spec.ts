import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, progressLine } from './progress.ts';

describe('formatProgress', () => {
  it('shows a bar, the share, the counts, the rate and the ETA', () => {
    expect(formatProgress({ label: 'verify', done: 412_000, total: 1_000_000, elapsedMs: 3_500 })).toBe(
      'verify  [########------------]   41%  412,000/1,000,000 events  117,714/s  ETA 5s',
    );
  });

  it('shows only the count and the rate when the total is unknown or was underestimated', () => {
    expect(formatProgress({ label: 'export', done: 5_000, total: undefined, elapsedMs: 2_000 })).toBe(
      'export  5,000 events  2,500/s',
    );
    expect(formatProgress({ label: 'verify', done: 1_200, total: 1_000, elapsedMs: 1_000 })).toBe(
      'verify  1,200 events  1,200/s',
    );
  });

  it('has no rate or ETA before any time has passed, and the time taken once finished', () => {
    expect(formatProgress({ label: 'verify', done: 0, total: 10, elapsedMs: 0 })).toBe(
      'verify  [--------------------]    0%  0/10 events  0/s',
    );
    expect(formatProgress({ label: 'verify', done: 10, total: 10, elapsedMs: 125_000, finished: true })).toBe(
      'verify  [####################]  100%  10/10 events  0/s  in 2m05s',
    );
  });
});

describe('formatDuration', () => {
  it('writes seconds, minutes and hours', () => {
    expect(formatDuration(400)).toBe('0s');
    expect(formatDuration(59_400)).toBe('59s');
    expect(formatDuration(61_000)).toBe('1m01s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
  });
});

describe('progressLine', () => {
  it('redraws in place at most once an interval, takes a better total, and ends the line', () => {
    let now = 0;
    const written: string[] = [];
    const progress = progressLine({
      label: 'verify',
      total: 100,
      stream: { write: (text: string) => written.push(text) },
      now: () => now,
      intervalMs: 250,
    });
    now = 1_000;
    progress.update(10);
    now = 1_100;
    progress.update(20);
    now = 2_000;
    progress.update(40, 200);
    progress.finish();
    expect(written).toHaveLength(3);
    expect(written[0]).toBe('\rverify  [##------------------]   10%  10/100 events  10/s  ETA 9s\x1b[K');
    expect(written[1]).toContain('40/200 events');
    expect(written[2]!.startsWith('\rverify ')).toBe(true);
    expect(written[2]!.endsWith(' in 2s\x1b[K\n')).toBe(true);
  });
});
