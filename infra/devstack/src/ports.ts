import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * The ports the kernel hands out by itself: to `listen(0)` and to every outgoing connection. A port
 * found there is free only for an instant: any test's Postgres or NATS connection can take it
 * before the process we found it for binds it (EADDRINUSE, or worse, another server answering on
 * it). Linux says where the range is; elsewhere the IANA range is the usual one.
 */
export function ephemeralPortRange(
  read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
): [number, number] {
  try {
    const [low, high] = read().trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 0 && high! >= low!) return [low!, high!];
  } catch {
    // not Linux
  }
  return [49_152, 65_535];
}

/** Above the ports services are usually configured on (5432, 4222, 8080…). */
const LOWEST_PICKED_PORT = 20_000;
const ATTEMPTS = 64;

/**
 * A TCP port on `host` that nothing listens on right now, picked at random below the kernel's
 * ephemeral range, so that only another caller of this function can race us for it. Falls back to
 * a port the kernel picks when no such range exists or it is full.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const [ephemeralLow] = ephemeralPortRange();
  const highest = ephemeralLow - 1;
  if (highest - LOWEST_PICKED_PORT >= 1_000) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const port = randomInt(LOWEST_PICKED_PORT, highest + 1);
      if (await isPortFree(port, host)) return port;
    }
  }
  return kernelPickedPort(host);
}

/**
 * A free port not in `taken`, added to it. A port that is free now is not listened on yet, so a
 * second pick can return it again: every port one caller gives out goes through one `taken`.
 */
export async function freePortBesides(
  taken: Set<number>,
  pick: () => Promise<number> = () => findFreePort(),
): Promise<number> {
  let port = await pick();
  while (taken.has(port)) port = await pick();
  taken.add(port);
  return port;
}

function kernelPickedPort(host: string): Promise<number> {
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
