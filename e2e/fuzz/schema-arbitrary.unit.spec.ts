import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hostileOf } from './hostile.ts';
import { operationsOf, requestsFor, validRequestsFor } from './operations.ts';
import { arbitraryOf } from './schema-arbitrary.ts';

// The services' OpenAPI schemas are zod schemas written out as JSON Schema: what the arbitrary
// generates from that JSON Schema must be what the zod schema accepts.
const money = z
  .object({ amount: z.number().int().positive(), currency: z.string().regex(/^[A-Z]{3}$/) })
  .strict();
const schemas = {
  task: z.object({
    campaign_id: z.uuid(),
    task_type: z.enum(['audio', 'image', 'text']),
    title: z.string().min(1).max(200),
    reward: money,
    xp_reward: z.number().int().min(0).max(1_000_000).default(10),
    min_trust_score: z.number().min(0).max(10).default(5),
    regions: z
      .array(z.string().regex(/^[A-Za-z]{2}$/))
      .max(250)
      .default([]),
    deadline: z.iso.datetime({ offset: true }).nullable().optional(),
    input: z.record(z.string(), z.unknown()),
    time_estimate: z.string().min(1).max(50).nullable().optional(),
  }),
  verdict: z.discriminatedUnion('verdict', [
    z.object({ verdict: z.literal('approve'), quality_score: z.number().int().min(1).max(5) }),
    z.object({ verdict: z.literal('reject'), reasons: z.array(z.string().min(1)).min(1).max(3) }),
  ]),
  email: z.object({ email: z.email(), password: z.string().min(12).max(128) }),
};

describe('arbitraryOf', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`generates only values the zod schema accepts: ${name}`, () => {
      const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
      fc.assert(
        fc.property(arbitraryOf(json), (value) => {
          const parsed = schema.safeParse(value);
          if (!parsed.success) throw new Error(`${JSON.stringify(value)}: ${parsed.error.message}`);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('gives any JSON value for a schema it does not understand, rather than nothing', () => {
    const values = fc.sample(arbitraryOf({ not: { type: 'string' } }), { numRuns: 50, seed: 3 });
    expect(values.length).toBe(50);
  });
});

describe('hostileOf', () => {
  it('bends a valid value so that the schema refuses it most of the time', () => {
    const json = z.toJSONSchema(schemas.task, { io: 'input' }) as Record<string, unknown>;
    const values = fc.sample(hostileOf(json), { numRuns: 200, seed: 7 });
    const refused = values.filter((value) => !schemas.task.safeParse(value).success).length;
    // Some mutations leave a valid value (an optional field dropped): most must not.
    expect(refused).toBeGreaterThan(120);
  });
});

describe('requests for an operation', () => {
  const document = {
    paths: {
      '/api/v1/things/{id}': {
        post: {
          security: [{ bearerAuth: [] }],
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
            { name: 'idempotency-key', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: z.toJSONSchema(schemas.verdict, { io: 'input' }) } },
          },
        },
        get: {},
      },
    },
  };
  const [post, get] = operationsOf(document);

  it('reads the operations, their parameters, body and security', () => {
    expect(post).toMatchObject({
      method: 'POST',
      path: '/api/v1/things/{id}',
      secured: true,
      bodyRequired: true,
    });
    expect(post!.parameters.map((p) => p.name)).toEqual(['id', 'idempotency-key', 'cursor']);
    expect(get).toMatchObject({ method: 'GET', secured: false });
  });

  it('sends well-formed requests to the known ids, with an idempotency key and no made-up cursor', () => {
    const requests = fc.sample(validRequestsFor(post!, { id: ['6f1c1f8e-2f4e-4c36-9d5d-6a1d34d2b8f1'] }), {
      numRuns: 100,
      seed: 1,
    });
    for (const request of requests) {
      expect(request.url).toMatch(/^\/api\/v1\/things\/[^/?]+$/);
      expect(request.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
      expect(schemas.verdict.safeParse(JSON.parse(request.body!.data as string)).success).toBe(true);
    }
    expect(requests.some((r) => r.url.endsWith('6f1c1f8e-2f4e-4c36-9d5d-6a1d34d2b8f1'))).toBe(true);
  });

  it('mixes hostile requests of every kind in, and never puts a body on a GET', () => {
    const kinds = new Set(fc.sample(requestsFor(post!, {}), { numRuns: 300, seed: 2 }).map((r) => r.kind));
    expect([...kinds].sort()).toEqual([
      'bad path',
      'hostile body',
      'hostile header',
      'hostile query',
      'valid',
    ]);
    for (const request of fc.sample(requestsFor(get!, {}), { numRuns: 50, seed: 2 })) {
      expect(request.body).toBeUndefined();
    }
  });
});
