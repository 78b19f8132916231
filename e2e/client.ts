import { expect } from 'vitest';
import type { Platform } from './platform.ts';

// What the e2e specs do through the gateway: JSON calls, waiting for the platform's events to
// land, logging in.

export interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by the assertions
  body: any;
}

export const show = (reply: Reply) => `${reply.status} ${JSON.stringify(reply.body)}`;
export const usd = (amount: number) => ({ amount, currency: 'USD' });

export interface GatewayClient {
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** Polls `probe` until it gives a value; fails with the platform's output after `timeoutMs`. */
  waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T>;
  logIn(email: string, password: string): Promise<{ userId: string; token: string }>;
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  key?: string;
}

/**
 * One JSON call: a body as JSON, a bearer token, an Idempotency-Key; the reply's body parsed (an
 * empty one as `{}`, one that is not JSON as `{ text }`). Transport errors are thrown.
 */
export async function requestJson(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions & { timeoutMs?: number } = {},
): Promise<Reply> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.key ? { 'idempotency-key': options.key } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
  });
  const text = await response.text();
  let body: unknown = {};
  try {
    body = text ? (JSON.parse(text) as unknown) : {};
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/** A client of the platform's gateway; `platform()` is read at each call (specs start it in beforeAll). */
export function gatewayClient(platform: () => Platform): GatewayClient {
  const call: GatewayClient['call'] = async (method, path, options = {}) => {
    for (let attempt = 1; ; attempt++) {
      const reply = await once(method, path, options);
      // The gateway limits requests per client address: a busy driver (the demo) waits its turn.
      if (reply.status !== 429 || attempt === 20) return reply;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * Math.min(attempt, 5)));
    }
  };
  const once: GatewayClient['call'] = (method, path, options = {}) =>
    requestJson(platform().baseUrl, method, path, options);
  return {
    call,
    async waitFor(what, timeoutMs, probe) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms:\n${platform().output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async logIn(email, password) {
      const login = await call('POST', '/auth/login', { body: { email, password } });
      expect(login.status, show(login)).toBe(200);
      const body = login.body as { user: { id: string }; session: { access_token: string } };
      return { userId: body.user.id, token: body.session.access_token };
    },
  };
}
