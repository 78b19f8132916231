import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDatabase } from '../db/database.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger } from '../logger.ts';
import { registerDeadLetterRoutes } from '../messaging/dead-letters.ts';
import { createTestDatabase, createTestIssuer } from '../testing/index.ts';
import { createHttpApp, type HttpApp } from './app.ts';
import { createTokenVerifier } from './auth.ts';

interface TestDB extends KitTables {
  notes: { id: string; body: string };
}

// Against a real Postgres, which refuses a NUL in text (and a lone surrogate cannot be encoded):
// before the kit refused them, these requests reached the database and answered 500.
let db: Kysely<TestDB>;
let drop: () => Promise<void>;
let app: HttpApp;
let admin: { authorization: string };

beforeAll(async () => {
  const database = await createTestDatabase('text-safety');
  drop = database.drop;
  db = createDatabase<TestDB>(database.url);
  await migrateToLatest(db as Kysely<unknown>);
  await sql`create table notes (id text primary key, body text not null)`.execute(db);
  const issuer = await createTestIssuer();
  app = await createHttpApp({
    name: 'diagnostics',
    logger: createLogger({ name: 'text-safety-test', level: 'silent', pretty: false }),
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
  });
  registerDeadLetterRoutes(app, { service: 'diagnostics', db, consumers: [] });
  // A route with no text rules of its own: only the kit stands between the body and Postgres.
  app.post(
    '/notes',
    { schema: { body: z.object({ id: z.string().max(100), body: z.string().max(1000) }) } },
    async (request, reply) => {
      await db.insertInto('notes').values(request.body).execute();
      return reply.code(201).send({ ok: true });
    },
  );
  await app.ready();
  admin = { authorization: `Bearer ${await issuer.token({ role: 'admin' })}` };
});

afterAll(async () => {
  await app?.close();
  await db?.destroy();
  await drop?.();
});

const notes = async () => (await db.selectFrom('notes').select('id').execute()).length;

describe('text Postgres cannot store, at the edge', () => {
  it('refuses a NUL in a dead-letters query parameter with 400 INVALID_CHARACTERS', async () => {
    for (const url of [
      '/api/v1/admin/diagnostics/dead-letters?consumer=%00',
      '/api/v1/admin/diagnostics/dead-letters?consumer=probe%00counter',
    ]) {
      const response = await app.inject({ url, headers: admin });
      expect([response.statusCode, response.json().code], url).toEqual([400, 'INVALID_CHARACTERS']);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    const fine = await app.inject({
      url: '/api/v1/admin/diagnostics/dead-letters?consumer=x',
      headers: admin,
    });
    expect(fine.statusCode).toBe(200);
  });

  it('refuses a NUL or a lone surrogate in a body string, and writes nothing', async () => {
    for (const body of [
      { id: 'nul', body: 'a\u0000b' },
      { id: 'high', body: 'half \uD83D' },
      { id: 'low', body: '\uDE00 half' },
      { id: 'nul\u0000key', body: 'fine' },
    ]) {
      const response = await app.inject({ method: 'POST', url: '/notes', payload: body });
      expect([response.statusCode, response.json().code], body.id).toEqual([400, 'INVALID_CHARACTERS']);
    }
    expect(await notes()).toBe(0);
    const ok = await app.inject({ method: 'POST', url: '/notes', payload: { id: 'ok', body: 'café 😀' } });
    expect(ok.statusCode).toBe(201);
    expect(await notes()).toBe(1);
  });
});
