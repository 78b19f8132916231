import { randomBytes } from 'node:crypto';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from './platform.ts';

// One user action is one trace across services: the trace a client starts at the gateway reaches
// the consumers, in other processes, of the events its request caused (packages/service-kit/README.md:
// Tracing). Their `event applied` lines are debug lines, hence this platform of its own at debug.

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform(120_000, { LOG_LEVEL: 'debug', LOG_FORMAT: 'json' });
});

afterAll(async () => {
  await platform?.stop();
});

/** The JSON log lines of the platform's output, behind the (coloured) `[service]` prefix the runner adds. */
function logLines(): { service: string; line: Record<string, unknown> }[] {
  const lines: { service: string; line: Record<string, unknown> }[] = [];
  for (const raw of platform.output().split('\n')) {
    const match = /^\s*\[\s*([a-z-]+)\s*\]\s*(\{.*\})\s*$/.exec(stripVTControlCharacters(raw));
    if (!match) continue;
    try {
      lines.push({ service: match[1]!, line: JSON.parse(match[2]!) as Record<string, unknown> });
    } catch {
      // A line that only looks like JSON.
    }
  }
  return lines;
}

describe('a trace across the platform', () => {
  it("carries the client's trace from a sign-up through the gateway into other services' consumers", async () => {
    const traceId = randomBytes(16).toString('hex');
    const email = `e2e.trace.${randomBytes(6).toString('hex')}@example.test`;
    let response: Response | undefined;
    // The gateway answers before it has necessarily reached identity.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      response = await fetch(`${platform.baseUrl}/auth/signup`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
        },
        body: JSON.stringify({ email, password: 'e2e-amber-lantern-harbour', full_name: 'Traced Person' }),
      });
      if (response.status !== 502 && response.status !== 503) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(response?.status).toBe(201);
    expect(response?.headers.get('traceresponse')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    // identity.user.registered reaches other services' consumers, each logging it under the trace.
    let consumers = new Set<string>();
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      consumers = new Set(
        logLines()
          .filter(({ line }) => line.msg === 'event applied' && line.trace_id === traceId)
          .map(({ service }) => service),
      );
      if (consumers.size >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect([...consumers].filter((service) => service !== 'identity').length).toBeGreaterThanOrEqual(2);
    // The request's own lines, in identity, carry it too.
    expect(logLines().some(({ service, line }) => service === 'identity' && line.trace_id === traceId)).toBe(
      true,
    );
  });
});
