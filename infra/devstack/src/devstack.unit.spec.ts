import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { containerRuntimeAnswers } from './containers.ts';
import { TEST_NATS_ENV, TEST_POSTGRES_ENV, redactUrl, urlFromEnv } from './env.ts';
import { MissingDependencyError } from './errors.ts';
import { findExecutable, natsServerMissing, resolveNats } from './nats.ts';
import { ephemeralPortRange, findFreePort, isPortFree } from './ports.ts';
import { resolvePostgres } from './postgres.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function listeningPort(): Promise<number> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

describe('urlFromEnv', () => {
  it('takes the first non-empty variable in the given order', () => {
    const env = { DATABASE_URL: 'postgres://plain', TEST_DATABASE_URL: 'postgres://test' };
    expect(urlFromEnv(TEST_POSTGRES_ENV, env)).toEqual({ name: 'TEST_DATABASE_URL', url: 'postgres://test' });
    expect(urlFromEnv(TEST_POSTGRES_ENV, { ...env, TEST_DATABASE_URL: ' ' })).toEqual({
      name: 'DATABASE_URL',
      url: 'postgres://plain',
    });
    expect(urlFromEnv(['DATABASE_URL'], {})).toBeUndefined();
  });
});

describe('resolution from the environment', () => {
  it('uses TEST_DATABASE_URL before DATABASE_URL, without starting anything', async () => {
    const port = await listeningPort();
    const url = `postgres://postgres:secret@127.0.0.1:${port}/postgres`;
    const env = { TEST_DATABASE_URL: url, DATABASE_URL: 'postgres://127.0.0.1:1/postgres' };
    const postgres = await resolvePostgres({ envNames: TEST_POSTGRES_ENV, env });
    expect(postgres).toMatchObject({ url, source: 'env' });
    await postgres.stop();
  });

  it('fails fast, naming the variable and hiding the password, when the env URL answers nothing', async () => {
    const port = await findFreePort();
    const env = { DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/postgres` };
    const error = await resolvePostgres({ env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toContain(
      `DATABASE_URL is set to postgres://postgres:***@127.0.0.1:${port}`,
    );
    expect((error as Error).message).not.toContain('secret');
  });

  it('accepts a NATS server list when one of them answers', async () => {
    const [down, up] = [await findFreePort(), await listeningPort()];
    const url = `nats://127.0.0.1:${down},nats://127.0.0.1:${up}`;
    const nats = await resolveNats({ envNames: TEST_NATS_ENV, env: { TEST_NATS_URL: url } });
    expect(nats).toMatchObject({ url, source: 'env' });
  });
});

describe('a missing nats-server', () => {
  it('is reported with the ways to get one', () => {
    const error = natsServerMissing(TEST_NATS_ENV);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error.dependency).toBe('nats');
    expect(error.message).toContain('apt-get install -y nats-server');
    expect(error.message).toContain('set TEST_NATS_URL');
  });

  it('is only found where it is executable', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'devstack-unit-'));
    cleanups.push(() => rm(dir, { recursive: true }));
    await writeFile(path.join(dir, 'nats-server'), '#!/bin/sh\n');
    expect(findExecutable('nats-server', ['', dir])).toBeUndefined();
    await chmod(path.join(dir, 'nats-server'), 0o755);
    expect(findExecutable('nats-server', ['', dir])).toBe(path.join(dir, 'nats-server'));
  });
});

describe('ports', () => {
  it('finds a free port and sees it taken once something listens there', async () => {
    const port = await findFreePort();
    expect(await isPortFree(port)).toBe(true);
    expect(await isPortFree(await listeningPort())).toBe(false);
  });

  it("picks below the kernel's ephemeral range, where outgoing connections cannot take the port", async () => {
    const [low] = ephemeralPortRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => findFreePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(low);
    }
    // Random, not one port handed to every caller.
    expect(new Set(ports).size).toBeGreaterThan(1);
  });

  it('reads the ephemeral range from Linux, and assumes the IANA one elsewhere', () => {
    expect(ephemeralPortRange(() => '32768\t60999\n')).toEqual([32_768, 60_999]);
    expect(ephemeralPortRange(() => 'nonsense')).toEqual([49_152, 65_535]);
    expect(
      ephemeralPortRange(() => {
        throw new Error('ENOENT');
      }),
    ).toEqual([49_152, 65_535]);
  });
});

describe('container runtime detection', () => {
  it('decides within a few seconds', async () => {
    const started = Date.now();
    expect(typeof (await containerRuntimeAnswers())).toBe('boolean');
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});

describe('redactUrl', () => {
  it('masks only the password', () => {
    expect(redactUrl('postgres://u:p@h:1/db')).toBe('postgres://u:***@h:1/db');
    expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
  });
});
