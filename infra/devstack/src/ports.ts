import net from 'node:net';

/** A TCP port on `host` that nothing listens on right now. */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Stops waiting early (with this signal's reason) when aborted. */
  signal?: AbortSignal;
}

/** Polls `check` until it returns true; throws `timeoutMessage` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMessage: string | (() => string),
  { timeoutMs, intervalMs = 100, signal }: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(typeof timeoutMessage === 'string' ? timeoutMessage : timeoutMessage());
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
