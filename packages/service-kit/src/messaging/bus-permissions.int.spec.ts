// The bus as a trust boundary: a real nats-server started with the users and permissions that
// infra/nats/src/permissions.ts generates (the same table as compose's nats.conf).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AckPolicy } from '@nats-io/jetstream';
import { buildEvent, streamFor, subjectFor } from '@tessera/contracts';
import { findNatsServer, type ResolvedNats, startLocalNats } from '@tessera/devstack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAuthorization, SERVICES, type ServiceName } from '../../../../infra/nats/src/permissions.ts';
import { awaitStream, type Bus, connectBus, ensureStream, isPermissionDenied } from './bus.ts';
import { instanceSignals } from './signals.ts';

const passwords = Object.fromEntries(
  SERVICES.map((s) => [s, randomBytes(18).toString('base64url')]),
) as Record<ServiceName, string>;
let nats: ResolvedNats;
let dir: string;
const buses: Bus[] = [];

async function as(service: ServiceName): Promise<Bus> {
  const bus = await connectBus({ url: nats.url, name: service, user: service, password: passwords[service] });
  buses.push(bus);
  return bus;
}

async function messagesIn(bus: Bus, producer: string): Promise<number> {
  return (await bus.jsm.streams.info(streamFor(producer).name)).state.messages;
}

function approval(): string {
  const event = buildEvent(
    'submissions.submission.approved.v1',
    {
      submission_id: randomUUID(),
      task_id: randomUUID(),
      campaign_id: randomUUID(),
      contributor_id: randomUUID(),
      reward: { amount: 1_000_000, currency: 'USD' },
      xp_reward: 10,
    },
    { subject: randomUUID() },
  );
  return JSON.stringify(event);
}

/** What a refused request rejects with: the server's permissions violation. */
async function refusal(attempt: Promise<unknown>): Promise<unknown> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the server should have refused').toBeDefined();
  return error;
}

let tasks: Bus;
let submissions: Bus;

beforeAll(async () => {
  const binary = findNatsServer();
  if (!binary) throw new Error('these tests need the nats-server binary (see infra/devstack/README.md)');
  dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-nats-auth-'));
  const config = path.join(dir, 'nats.conf');
  await writeFile(config, `${renderAuthorization({ literal: passwords })}\n`, { mode: 0o600 });
  nats = await startLocalNats(binary, { config });
  tasks = await as('tasks');
  submissions = await as('submissions');
  await ensureStream(tasks, 'tasks');
  await ensureStream(submissions, 'submissions');
});

afterAll(async () => {
  for (const bus of buses) await bus.close().catch(() => {});
  await nats?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('NATS credentials per service', () => {
  it('refuses a wrong password', async () => {
    const error = await refusal(
      connectBus({ url: nats.url, name: 'tasks', user: 'tasks', password: 'not-the-password' }),
    );
    expect(String(error)).toMatch(/authorization violation/i);
  });

  it('refuses a client without credentials', async () => {
    expect(String(await refusal(connectBus({ url: nats.url, name: 'anonymous' })))).toMatch(
      /authorization violation/i,
    );
  });
});

describe('publishing', () => {
  it('refuses tasks’ forged submissions.submission.approved.v1, and nothing lands in the stream', async () => {
    const before = await messagesIn(submissions, 'submissions');
    const error = await refusal(
      tasks.js.publish(subjectFor('submissions.submission.approved.v1'), approval()),
    );
    expect(isPermissionDenied(error)).toBe(true);
    // A plain publish (no ack awaited) is dropped by the server too.
    tasks.nc.publish(subjectFor('submissions.submission.approved.v1'), approval());
    await tasks.nc.flush();
    await submissions.nc.flush();
    expect(await messagesIn(submissions, 'submissions')).toBe(before);
  });

  it('refuses the forged event through the batch publisher too, at once rather than at its timeout', async () => {
    const before = await messagesIn(submissions, 'submissions');
    const started = Date.now();
    const error = await refusal(
      tasks.publisher.publishAll([
        { subject: subjectFor('submissions.submission.approved.v1'), data: approval(), msgID: randomUUID() },
      ]),
    );
    expect(error).toMatchObject({ name: 'PublishError', reason: 'permission' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await messagesIn(submissions, 'submissions')).toBe(before);
    // Its own events still go through, the acks coming back on its own inbox prefix.
    const [ack] = await tasks.publisher.publishAll([
      { subject: 'tasks.probe.published.v1', data: '{}', msgID: randomUUID() },
    ]);
    expect(ack).toMatchObject({ stream: 'TASKS', duplicate: false });
  });

  it('lets tasks publish its own events', async () => {
    const before = await messagesIn(tasks, 'tasks');
    const ack = await tasks.js.publish('tasks.probe.published.v1', '{}', { msgID: randomUUID() });
    expect(ack.stream).toBe('TASKS');
    expect(await messagesIn(tasks, 'tasks')).toBe(before + 1);
  });
});

describe('streams', () => {
  it('lets tasks neither create, update nor delete the submissions stream', async () => {
    const { name, subjects } = streamFor('submissions');
    for (const attempt of [
      () => tasks.jsm.streams.add({ name: 'SUBMISSIONS_COPY', subjects: ['submissions.>'] }),
      () => tasks.jsm.streams.add({ name, subjects }),
      () => tasks.jsm.streams.update(name, { subjects, max_age: 1e9 }),
      () => tasks.jsm.streams.delete(name),
      () => tasks.jsm.streams.purge(name),
    ]) {
      expect(isPermissionDenied(await refusal(attempt()))).toBe(true);
    }
    expect((await submissions.jsm.streams.info(name)).config.max_age).not.toBe(1e9);
  });

  it('lets a service create and update its own stream', async () => {
    const ledger = await as('ledger');
    expect(await ensureStream(ledger, 'ledger')).toBe('LEDGER');
    expect(await ensureStream(ledger, 'ledger', { maxAgeDays: 30 })).toBe('LEDGER');
  });

  it('makes a reader wait for a stream its producer has not created yet', async () => {
    const payouts = await as('payouts');
    const logged: string[] = [];
    let found: string | undefined;
    const waiting = awaitStream(payouts, 'engagement', {
      log: (line) => logged.push(line),
      pollMs: [20, 50],
    }).then((name) => (found = name));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(found).toBeUndefined();
    expect(logged).toHaveLength(1);
    await ensureStream(await as('engagement'), 'engagement');
    expect(await waiting).toBe('ENGAGEMENT');
    expect(logged).toHaveLength(1);
  });
});

describe('consuming', () => {
  it('lets a service read a stream it reads, and not one it does not', async () => {
    await submissions.js.publish('submissions.probe.recorded.v1', '{"n":1}', { msgID: randomUUID() });
    const ledger = await as('ledger'); // reads submissions
    const stream = streamFor('submissions').name;
    await ledger.jsm.consumers.add(stream, { durable_name: 'ledger-probe', ack_policy: AckPolicy.Explicit });
    const consumer = await ledger.js.consumers.get(stream, 'ledger-probe');
    const msg = await consumer.next({ expires: 5_000 });
    expect(msg?.subject).toBe('submissions.probe.recorded.v1');
    expect(await msg!.ackAck()).toBe(true);

    const payouts = await as('payouts'); // does not read submissions
    const refused = await refusal(
      payouts.jsm.consumers.add(stream, { durable_name: 'payouts-probe', ack_policy: AckPolicy.Explicit }),
    );
    expect(isPermissionDenied(refused)).toBe(true);
    expect(isPermissionDenied(await refusal(payouts.js.consumers.get(stream, 'ledger-probe')))).toBe(true);
    expect(isPermissionDenied(await refusal(payouts.jsm.consumers.delete(stream, 'ledger-probe')))).toBe(
      true,
    );
  });
});

describe('signals between instances', () => {
  it('carries a service’s signals to its own instances, and lets no other service send or hear them', async () => {
    const other = await as('submissions'); // a second instance
    const heard = { instance: [] as string[], tasks: [] as string[] };
    const stops = [
      instanceSignals(other, 'submissions').listen('claim-arrived', (p) => heard.instance.push(p)),
      instanceSignals(tasks, 'submissions').listen('claim-arrived', (p) => heard.tasks.push(p)),
    ];
    for (const bus of [other, tasks]) await bus.nc.flush();

    instanceSignals(tasks, 'submissions').send('claim-arrived', 'forged by tasks');
    instanceSignals(submissions, 'submissions').send('claim-arrived', 'stored');
    for (const bus of [tasks, submissions, other]) await bus.nc.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(heard).toEqual({ instance: ['stored'], tasks: [] });
    for (const stop of stops) stop();
  });
});
