/**
 * A log destination that gathers the lines written during one turn of the event loop and writes
 * them to stdout together. pino's default destination makes one write(2) per line, which under
 * load cost the gateway more than routing a request; batching keeps each line as it was, in order,
 * at most one event-loop turn late. Whatever is pending is written on exit (stdout is synchronous
 * for files and pipes on Linux, so it is not lost when the process ends).
 */
export interface LogStream {
  write(line: string): void;
  flush(): void;
}

export function batchedStdout(
  out: { write(chunk: string): unknown } = process.stdout,
  maxBytes = 64 * 1024,
): LogStream {
  let pending: string[] = [];
  let size = 0;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    size = 0;
    out.write(text);
  };

  process.once('exit', flush);

  return {
    write(line: string): void {
      pending.push(line);
      size += line.length;
      if (size >= maxBytes) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
