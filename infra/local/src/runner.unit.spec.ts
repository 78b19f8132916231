import { stat, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePortBesides, isPortFree } from '@tessera/devstack';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareNatsAuth } from './nats-auth.ts';
import { serviceEnv, withFreePorts, type ServiceSpec } from './services.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function occupy(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

const spec = (name: string, port: number): ServiceSpec => ({
  name,
  dir: `/services/${name}`,
  port,
  routes: [],
});

describe('free ports for a second runner', () => {
  it('moves every service off its declared port, taken by a running `npm start`, to distinct free ports', async () => {
    const declared = [
      spec('identity', await occupy()),
      spec('tasks', await occupy()),
      spec('ledger', await occupy()),
    ];
    const moved = await withFreePorts(declared);
    expect(moved.map((s) => s.name)).toEqual(['identity', 'tasks', 'ledger']);
    expect(new Set(moved.map((s) => s.port)).size).toBe(3);
    for (const [i, service] of moved.entries()) {
      expect(service.port).not.toBe(declared[i]!.port);
      expect(await isPortFree(service.port)).toBe(true);
    }
    const env = serviceEnv(moved[1]!, moved, {
      postgresUrl: 'postgres://p@h/db',
      natsUrl: 'nats://h',
      logLevel: 'info',
    });
    expect(env.PORT).toBe(String(moved[1]!.port));
    expect(env.JWKS_URL).toBe(`http://127.0.0.1:${moved[0]!.port}/.well-known/jwks.json`);
  });
});

describe('ports given out by one runner', () => {
  it('never gives out a port twice, nor one already taken, whatever the picks return', async () => {
    // Picks as the OS could answer them: a port free at the time may come back again.
    const answers = [5001, 5001, 5002, 5003, 5002, 5004, 5005, 5003, 5006];
    const pick = async () => answers.shift()!;
    const taken = new Set([5003]);
    const moved = await withFreePorts([spec('identity', 3001), spec('tasks', 3002)], taken, pick);
    expect(moved.map((s) => s.port)).toEqual([5001, 5002]);
    expect(await freePortBesides(taken, pick)).toBe(5004);
    expect(await freePortBesides(taken, pick)).toBe(5005);
    expect(await freePortBesides(taken, pick)).toBe(5006);
    expect([...taken].sort()).toEqual([5001, 5002, 5003, 5004, 5005, 5006]);
  });
});

describe('NATS users of the local runner', () => {
  it('writes random passwords and the permissions config for the owner only, and gives each service its own', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'local-nats-auth-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const auth = await prepareNatsAuth(dir, ['identity', 'tasks']);
    const again = await prepareNatsAuth(dir, ['identity', 'tasks']);
    expect(again.passwords.tasks).not.toBe(auth.passwords.tasks);
    expect(auth.passwords.tasks).not.toBe(auth.passwords.identity);
    for (const file of ['nats-passwords.json', 'nats-auth.conf']) {
      expect((await stat(path.join(dir, file))).mode & 0o777).toBe(0o600);
    }
    const conf = await readFile(again.configPath, 'utf8');
    expect(conf).toContain(`password: ${JSON.stringify(again.passwords.tasks)}`);
    expect(conf).toContain('"$JS.API.STREAM.CREATE.TASKS"');

    const services = [spec('identity', 4001), spec('tasks', 4002)];
    const infra = { postgresUrl: 'postgres://p@h/db', natsUrl: 'nats://h', logLevel: 'info' };
    const env = serviceEnv(services[1]!, services, { ...infra, natsPasswords: again.passwords });
    expect(env).toMatchObject({ NATS_USER: 'tasks', NATS_PASSWORD: again.passwords.tasks });
    expect(serviceEnv(services[1]!, services, infra).NATS_USER).toBeUndefined();
  });

  it('refuses a service the permissions table does not know', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'local-nats-auth-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await expect(prepareNatsAuth(dir, ['tasks', 'reports'])).rejects.toThrow(
      /services\/reports.*permissions\.ts/,
    );
  });
});
