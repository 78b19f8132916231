import { type CallOptions, type GatewayClient, type Reply, requestJson } from '../../../e2e/client.ts';

/**
 * A client of the gateway for a platform under fire: a call that meets a dead connection, a
 * 502/503/504 (the service is being restarted) or a 429 is sent again, with the same
 * Idempotency-Key, until `patienceMs` has passed. The platform must lose nothing; it need not
 * answer every call the first time.
 */
export interface ChaosClient extends GatewayClient {
  /** Calls sent again after a transport error or an unavailable upstream. */
  readonly retries: () => number;
  /** 500 answers met (a bug of the platform's, not its restarts: never sent again here). */
  readonly serverErrors: () => number;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

/** Whether a reply (or a transport failure, `undefined`) is worth sending again. */
export function shouldRetry(status: number | undefined): boolean {
  return status === undefined || RETRYABLE.has(status);
}

/** Waits 200 ms, 400 ms, … at most 3 s between attempts. */
export function retryDelay(attempt: number): number {
  return Math.min(3_000, 200 * 2 ** Math.min(attempt - 1, 10));
}

export function chaosClient(baseUrl: string, patienceMs = 180_000): ChaosClient {
  let retries = 0;
  let serverErrors = 0;
  const once = (method: string, path: string, options: CallOptions): Promise<Reply | undefined> =>
    requestJson(baseUrl, method, path, { ...options, timeoutMs: 30_000 }).catch(() => undefined);
  const call: GatewayClient['call'] = async (method, path, options = {}) => {
    const deadline = Date.now() + patienceMs;
    for (let attempt = 1; ; attempt++) {
      const reply = await once(method, path, options);
      if (reply?.status === 500) serverErrors += 1;
      if (!shouldRetry(reply?.status)) return reply!;
      if (Date.now() > deadline) {
        return reply ?? { status: 0, body: { error: `no answer to ${method} ${path} in ${patienceMs} ms` } };
      }
      retries += 1;
      await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt)));
    }
  };
  return {
    call,
    retries: () => retries,
    serverErrors: () => serverErrors,
    async waitFor(what, timeoutMs, probe) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async logIn(email, password) {
      const login = await call('POST', '/auth/login', { body: { email, password } });
      if (login.status !== 200)
        throw new Error(`login of ${email}: ${login.status} ${JSON.stringify(login.body)}`);
      const body = login.body as { user: { id: string }; session: { access_token: string } };
      return { userId: body.user.id, token: body.session.access_token };
    },
  };
}

/**
 * An access token lives 15 minutes (identity's `ACCESS_TOKEN_TTL_S`) and a long run lasts more than
 * an hour: each actor logs in again once its token is `maxAgeMs` old, counted from the first time it
 * was asked for (setup is a minute or two, well inside the margin). Without it the first 10,000 run
 * stalled after 15 minutes, every claim and vote answered 401 `token-expired`. Concurrent asks for
 * one actor share one login.
 */
export function freshTokens(
  logIn: (email: string) => Promise<{ token: string }>,
  options: { maxAgeMs?: number; now?: () => number } = {},
): (session: { email: string; token: string }) => Promise<string> {
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const issued = new WeakMap<object, number>();
  const renewing = new WeakMap<object, Promise<string>>();
  return (session) => {
    const at = issued.get(session);
    if (at === undefined) issued.set(session, now());
    if (at === undefined || now() - at < maxAgeMs) return Promise.resolve(session.token);
    let renewal = renewing.get(session);
    if (!renewal) {
      renewal = logIn(session.email)
        .then(({ token }) => {
          session.token = token;
          issued.set(session, now());
          return token;
        })
        .finally(() => renewing.delete(session));
      renewing.set(session, renewal);
    }
    return renewal;
  };
}
