/** A progress line for long CLI runs, redrawn in place on a terminal's stderr. */

export interface ProgressState {
  label: string;
  done: number;
  /** An estimate; undefined when unknown. */
  total: number | undefined;
  elapsedMs: number;
  /** The run is over: show the time taken rather than an ETA. */
  finished?: boolean;
}

const BAR_WIDTH = 20;

const count = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * `verify  [########------------]  41%  412,000/1,000,000 events  118,000/s  ETA 5s`. Without a
 * total, or once the count has passed an estimated total, it shows no bar and no ETA.
 */
export function formatProgress(state: ProgressState): string {
  const { label, done, total, elapsedMs } = state;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const known = total !== undefined && total > 0 && done <= total;
  const parts = [label];
  if (known) {
    const share = done / total;
    const filled = Math.floor(share * BAR_WIDTH);
    parts.push(
      `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`,
      `${String(Math.floor(share * 100)).padStart(3)}%`,
    );
    parts.push(`${count(done)}/${count(total)} events`);
  } else {
    parts.push(`${count(done)} events`);
  }
  parts.push(`${count(rate)}/s`);
  if (state.finished) parts.push(`in ${formatDuration(elapsedMs)}`);
  else if (known && rate > 0) parts.push(`ETA ${formatDuration(((total - done) / rate) * 1000)}`);
  return parts.join('  ');
}

export interface Progress {
  /** `total`: a better estimate of the total, when there is one. */
  update(done: number, total?: number): void;
  finish(): void;
}

export const noProgress: Progress = { update: () => undefined, finish: () => undefined };

/** Redraws the line on `stream` at most every `intervalMs`, and leaves the final line when done. */
export function progressLine(options: {
  label: string;
  total: number | undefined;
  stream: { write(text: string): unknown };
  now?: () => number;
  intervalMs?: number;
}): Progress {
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 250;
  const start = now();
  let last = -Infinity;
  let done = 0;
  let total = options.total;
  const draw = (finished: boolean) => {
    const line = formatProgress({ label: options.label, done, total, elapsedMs: now() - start, finished });
    options.stream.write(`\r${line}\x1b[K${finished ? '\n' : ''}`);
  };
  return {
    update(value, estimate) {
      done = value;
      total = estimate ?? total;
      if (now() - last < intervalMs) return;
      last = now();
      draw(false);
    },
    finish() {
      draw(true);
    },
  };
}
