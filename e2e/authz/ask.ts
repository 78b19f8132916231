import { randomUUID } from 'node:crypto';
import type { CellRequest } from './requests.ts';

/** One request through the gateway; the status only (an event stream is cut once its head is in). */
export async function ask(
  baseUrl: string,
  method: string,
  request: CellRequest,
  token: string | undefined,
): Promise<{ status: number; code?: string }> {
  for (let attempt = 1; ; attempt++) {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (request.idempotent) headers['idempotency-key'] = `authz-${randomUUID()}`;
    let body: FormData | string | undefined;
    if (request.upload) {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('authz matrix\n')], { type: 'text/plain' }), 'authz.txt');
      body = form;
    } else if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body);
    }
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}${request.path}`, {
      method,
      headers,
      body,
      signal: controller.signal,
    });
    let code: string | undefined;
    if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      controller.abort();
    } else {
      const text = await response.text();
      try {
        code = (JSON.parse(text) as { code?: string }).code;
      } catch {
        code = undefined;
      }
    }
    // The gateway limits requests per client address: wait a turn rather than record a 429.
    if (response.status !== 429 || attempt === 10) return { status: response.status, code };
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** Runs `tasks` with at most `limit` at a time. */
export async function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}
