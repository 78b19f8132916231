// Test and benchmark support: a client of the notification stream (server-sent events) over a real
// socket (app.inject waits for the end of a response, which never comes).
import { Agent, fetch } from 'undici';

/** A notification as the stream sends it. */
export interface Item {
  id: string;
  kind: string;
  title: string;
  data: Record<string, unknown>;
}

export interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
  at: number;
}

/**
 * An SSE connection to `GET /api/v1/notifications/stream` at `base`, read frame by frame (a frame's
 * `at` is when it was read). The caller checks `response`'s status and headers.
 */
export async function openNotificationStream(base: string, token: string, lastEventId?: string) {
  const controller = new AbortController();
  // One connection of its own: a shared pool may open spare sockets that would outlive the test.
  const agent = new Agent({ connections: 1 });
  const response = await fetch(`${base}/api/v1/notifications/stream`, {
    headers: {
      authorization: `Bearer ${token}`,
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
    },
    signal: controller.signal,
    dispatcher: agent,
  });
  if (!response.body) throw new Error(`the stream answered ${response.status} without a body`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let pending: ReturnType<typeof reader.read> | undefined;
  let done = false;

  /** The next frame, or null when the stream ended; throws after `timeoutMs`. */
  const next = async (timeoutMs = 2_000): Promise<Frame | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cut = buffer.indexOf('\n\n');
      if (cut >= 0) {
        const raw = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const frame: Frame = { at: Date.now() };
        for (const line of raw.split('\n')) {
          if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          else {
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
            else (frame as unknown as Record<string, string>)[field!] = value;
          }
        }
        return frame;
      }
      if (done) return null;
      pending ??= reader.read();
      const left = deadline - Date.now();
      const result = await Promise.race([
        pending,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, left))),
      ]);
      if (result === 'timeout') throw new Error(`no SSE frame within ${timeoutMs} ms`);
      pending = undefined;
      if (result.done) done = true;
      else buffer += result.value;
    }
  };
  /** The next `notification` event, skipping comments and the retry field. */
  const nextEvent = async (timeoutMs = 2_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await next(Math.max(1, deadline - Date.now()));
      if (frame === null) throw new Error('the stream ended');
      if (frame.event === 'notification') {
        return { id: frame.id!, at: frame.at, item: JSON.parse(frame.data!) as Item };
      }
    }
  };
  /** Everything until the stream ends (null) or `ms` pass. */
  const drain = async (ms: number) => {
    const frames: Frame[] = [];
    const deadline = Date.now() + ms;
    try {
      for (;;) {
        const frame = await next(Math.max(1, deadline - Date.now()));
        if (frame === null) return { frames, ended: true };
        frames.push(frame);
      }
    } catch {
      return { frames, ended: false };
    }
  };
  const close = () => {
    controller.abort();
    void agent.destroy().catch(() => undefined);
  };
  return { response, next, nextEvent, drain, close };
}
