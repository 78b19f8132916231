/**
 * Benchmark of the notification stream: the time from an approval published on the bus to its
 * notification read off an open SSE connection (consumer → notification row → LISTEN/NOTIFY →
 * frame), first one event at a time on one stream, then with many streams open and one event each
 * at once.
 *
 *   pnpm --filter @tessera/engagement bench:stream      (EVENTS=200 STREAMS=50)
 *
 * Postgres and NATS come from DATABASE_URL and NATS_URL, else the embedded binaries and a local
 * nats-server. The service is the one the tests start (testing/harness.ts), on its own database
 * and subject prefix, listening on a real socket.
 */
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { resolveNats, resolvePostgres } from '@tessera/devstack';
import { foreignEvent, percentile } from '@tessera/service-kit/testing';
import { approvalOf, startTestEngagement, type TestUser } from '../src/testing/harness.ts';
import { openNotificationStream } from '../src/testing/sse.ts';

const EVENTS = Number(process.env.EVENTS ?? 200);
const STREAMS = Number(process.env.STREAMS ?? 50);

const log = (line: string) => process.stdout.write(`${line}\n`);
const postgres = await resolvePostgres({ containers: false });
const nats = await resolveNats({ containers: false });
const t = await startTestEngagement({}, { servers: { postgresUrl: postgres.url, natsUrl: nats.url } });
await t.service.app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(t.service.app.server.address() as AddressInfo).port}`;

/** Publishes an approval for `user` on the bus, as submissions would, without waiting for it. */
async function approve(user: TestUser): Promise<{ submissionId: string; publishedAt: number }> {
  const approval = approvalOf(user.id);
  const event = foreignEvent('submissions.submission.approved.v1', approval);
  const publishedAt = Date.now();
  await t.publish(event);
  return { submissionId: approval.submission_id, publishedAt };
}

/** Waits on `stream` for the approval of `submissionId`; the ms from publishing to reading it. */
async function delay(
  stream: Awaited<ReturnType<typeof openNotificationStream>>,
  sent: { submissionId: string; publishedAt: number },
): Promise<number> {
  for (;;) {
    const event = await stream.nextEvent(10_000);
    if (event.item.kind === 'submission_approved' && event.item.data.submission_id === sent.submissionId) {
      return event.at - sent.publishedAt;
    }
  }
}

function figures(label: string, values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p).toFixed(0).padStart(6);
  log(`${label.padEnd(44)}${String(values.length).padStart(7)}${at(0.5)}${at(0.95)}${at(0.99)}${at(1)}`);
}

try {
  // One stream, one event at a time.
  const user = await t.contributor();
  const stream = await openNotificationStream(base, user.token);
  if (stream.response.status !== 200) throw new Error(`the stream answered ${stream.response.status}`);
  const serial: number[] = [];
  for (let i = 0; i < EVENTS; i++) serial.push(await delay(stream, await approve(user)));
  stream.close();

  // Many streams, one event for each, all published at once.
  const users = await Promise.all(Array.from({ length: STREAMS }, () => t.contributor()));
  const streams = await Promise.all(users.map((u) => openNotificationStream(base, u.token)));
  const sent = await Promise.all(users.map((u) => approve(u)));
  const fanned = await Promise.all(streams.map((s, i) => delay(s, sent[i]!)));
  for (const s of streams) s.close();

  log(
    `\nEvent → SSE frame, ms (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );
  log(
    `${'what'.padEnd(44)}${'events'.padStart(7)}${'p50'.padStart(6)}${'p95'.padStart(6)}${'p99'.padStart(6)}${'max'.padStart(6)}`,
  );
  figures('one stream, one event at a time', serial);
  figures(`${STREAMS} streams, one event each, published at once`, fanned);
} finally {
  await t.stop();
  await nats.stop();
  await postgres.stop();
}
