// Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html).

/** One event: `id`, `event` and the JSON data, one `data:` line per line of it, then a blank line. */
export function sseEvent(id: string, event: string, data: unknown): string {
  if (/[\r\n\0]/.test(id) || /[\r\n]/.test(event)) throw new Error('an SSE id or event name has one line');
  const lines = JSON.stringify(data)
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('');
  return `id: ${id}\nevent: ${event}\n${lines}\n`;
}

/** A comment line: clients ignore it; it keeps proxies from timing out an idle stream. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** How long a client waits before it reconnects after the stream drops. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.trunc(ms))}\n\n`;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx and alike would otherwise buffer the stream.
  'x-accel-buffering': 'no',
} as const;
