import { describe, expect, it } from 'vitest';
import {
  matchesPrefix,
  mergeOpenApiDocuments,
  type OpenApiDocument,
  type ServiceDocument,
} from './openapi-merge.ts';

const ok = { '200': { description: 'ok' } };

function identityDoc() {
  return {
    openapi: '3.1.0',
    info: { title: 'identity', version: '1.2.0' },
    tags: [{ name: 'auth', description: 'Sessions' }, { name: 'health' }],
    security: [{ bearer: [] }],
    paths: {
      '/auth/login': {
        post: {
          tags: ['auth'],
          operationId: 'login',
          security: [],
          requestBody: {
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Credentials' } } },
          },
          responses: { '200': { $ref: '#/components/responses/Session' } },
        },
      },
      '/users/{id}': {
        get: {
          operationId: 'getUser',
          responses: {
            '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } },
          },
        },
      },
      '/healthz': { get: { tags: ['health'], operationId: 'healthz', responses: ok } },
      '/docs/json': { get: { responses: ok } },
    },
    components: {
      schemas: {
        Credentials: { type: 'object', properties: { email: { type: 'string' } } },
        User: {
          type: 'object',
          properties: { id: { type: 'string' }, money: { $ref: '#/components/schemas/Money' } },
        },
        Money: { type: 'object', properties: { amount: { type: 'integer' }, currency: { type: 'string' } } },
        Unused: { type: 'string' },
        Health: { type: 'object' },
      },
      responses: { Session: { description: 'A session' } },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

function tasksDoc() {
  return {
    openapi: '3.1.0',
    info: { title: 'tasks', version: '0.3.0' },
    paths: {
      '/tasks': {
        get: {
          tags: ['health'],
          operationId: 'getUser',
          responses: {
            '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } },
          },
        },
      },
      '/tasks/{id}/claims': {
        post: {
          tags: ['claims'],
          responses: {
            '201': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Money' } } } },
          },
        },
      },
      '/healthz': { get: { tags: ['health'], responses: ok } },
      '/auth/login': { post: { responses: ok } },
    },
    components: {
      schemas: {
        // Same name, different definition than identity's.
        User: {
          oneOf: [{ $ref: '#/components/schemas/User' }],
          discriminator: { propertyName: 'k', mapping: { a: '#/components/schemas/User' } },
        },
        // Same name, same definition: shared.
        Money: { properties: { currency: { type: 'string' }, amount: { type: 'integer' } }, type: 'object' },
      },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

interface Operation {
  tags?: string[];
  operationId?: string;
  security?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

function op(doc: OpenApiDocument, path: string, method: string): Operation {
  return (doc.paths[path] as unknown as Record<string, Operation>)[method]!;
}

const identity: ServiceDocument = {
  service: 'identity',
  prefixes: ['/auth', '/users'],
  document: identityDoc(),
};
const tasks: ServiceDocument = { service: 'tasks', prefixes: ['/tasks'], document: tasksDoc() };

describe('matchesPrefix', () => {
  it('matches on segment boundaries only', () => {
    expect(matchesPrefix('/auth', '/auth')).toBe(true);
    expect(matchesPrefix('/auth/login', '/auth')).toBe(true);
    expect(matchesPrefix('/authors', '/auth')).toBe(false);
    expect(matchesPrefix('/', '/auth')).toBe(false);
  });
});

describe('mergeOpenApiDocuments', () => {
  it('returns a valid document with no services at all', () => {
    const doc = mergeOpenApiDocuments([]);
    expect(doc).toMatchObject({
      openapi: '3.1.0',
      info: { title: 'Tessera API' },
      servers: [{ url: '/' }],
      paths: {},
      'x-unavailable-services': [],
    });
    expect(doc.components).toBeUndefined();
  });

  it("includes the gateway's own paths under its tag", () => {
    const doc = mergeOpenApiDocuments([], {
      version: '9.9.9',
      ownPaths: { '/healthz': { get: { tags: ['gateway'], responses: ok } } },
      ownTag: { name: 'gateway' },
    });
    expect(doc.info.version).toBe('9.9.9');
    expect(Object.keys(doc.paths)).toEqual(['/healthz']);
    expect(doc.tags).toEqual([{ name: 'gateway' }]);
    expect(doc['x-tagGroups']).toEqual([{ name: 'gateway', tags: ['gateway'] }]);
  });

  it('keeps only the paths the gateway routes to each service', () => {
    const doc = mergeOpenApiDocuments([identity, tasks]);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/auth/login',
      '/tasks',
      '/tasks/{id}/claims',
      '/users/{id}',
    ]);
    // /auth/login comes from identity (which owns /auth), not from tasks' stray copy.
    expect((doc.paths['/auth/login'] as { post: { operationId?: string } }).post.operationId).toBe('login');
  });

  it("keeps a service's paths under a parameterised prefix nested in another service's prefix", () => {
    const document = (paths: string[]) => ({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: Object.fromEntries(paths.map((p) => [p, { get: { responses: ok } }])),
    });
    const doc = mergeOpenApiDocuments([
      {
        service: 'identity',
        prefixes: ['/api/v1/companies'],
        document: document(['/api/v1/companies/{id}', '/api/v1/companies/{id}/members']),
      },
      {
        service: 'tasks',
        prefixes: ['/api/v1/campaigns'],
        document: document(['/api/v1/campaigns', '/api/v1/campaigns/{id}']),
      },
      {
        service: 'ledger',
        prefixes: [
          '/api/v1/companies/:id/credits',
          '/api/v1/companies/:id/topups',
          '/api/v1/campaigns/:id/budget',
        ],
        document: document([
          '/api/v1/companies/{id}/credits',
          '/api/v1/companies/{id}/topups',
          '/api/v1/campaigns/{id}/budget',
        ]),
      },
    ]);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/campaigns',
      '/api/v1/campaigns/{id}',
      '/api/v1/campaigns/{id}/budget',
      '/api/v1/companies/{id}',
      '/api/v1/companies/{id}/credits',
      '/api/v1/companies/{id}/members',
      '/api/v1/companies/{id}/topups',
    ]);
    expect(doc['x-undocumented-prefixes']).toBeUndefined();
  });

  it('lists forwarded prefixes of available services that have no documented operation', () => {
    const doc = mergeOpenApiDocuments([
      { ...identity, prefixes: [...identity.prefixes, '/auth/:id/keys', '/dev'] },
      tasks,
      { service: 'qc', prefixes: ['/qc'], unavailableReason: 'unreachable' },
    ]);
    expect(doc['x-undocumented-prefixes']).toEqual([
      { service: 'identity', prefix: '/auth/:id/keys' },
      { service: 'identity', prefix: '/dev' },
    ]);
  });

  it('routes a path to the service with the longest matching prefix', () => {
    const feed: ServiceDocument = {
      service: 'feed',
      prefixes: ['/tasks/feed'],
      document: {
        openapi: '3.1.0',
        info: { title: 'f', version: '1' },
        paths: { '/tasks/feed': { get: { responses: ok } } },
      },
    };
    const withFeedPath: ServiceDocument = {
      ...tasks,
      document: { ...tasksDoc(), paths: { ...tasksDoc().paths, '/tasks/feed': { get: { responses: ok } } } },
    };
    const doc = mergeOpenApiDocuments([withFeedPath, feed]);
    expect((doc.paths['/tasks/feed'] as { get: { tags: string[] } }).get.tags).toEqual(['feed']);
  });

  it('shares identical components and namespaces conflicting ones, rewriting refs', () => {
    const doc = mergeOpenApiDocuments([identity, tasks]);
    const schemas = doc.components!.schemas as Record<string, unknown>;
    expect(Object.keys(schemas).sort()).toEqual(['Credentials', 'Money', 'identity.User', 'tasks.User']);
    expect(schemas['identity.User']).toEqual(identityDoc().components.schemas.User);
    expect(schemas['tasks.User']).toEqual({
      oneOf: [{ $ref: '#/components/schemas/tasks.User' }],
      discriminator: { propertyName: 'k', mapping: { a: '#/components/schemas/tasks.User' } },
    });
    const getUser = op(doc, '/users/{id}', 'get');
    expect(getUser.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/identity.User',
    });
    const listTasks = op(doc, '/tasks', 'get');
    expect(listTasks.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/tasks.User',
    });
    expect(doc.components!.responses).toEqual({ Session: { description: 'A session' } });
    expect(doc.components!.securitySchemes).toEqual({
      bearer: identityDoc().components.securitySchemes.bearer,
    });
    expect(doc['x-conflicts']).toEqual([expect.stringContaining('components/schemas/User')]);
  });

  it('drops components only reachable from dropped paths', () => {
    const schemas = mergeOpenApiDocuments([identity]).components!.schemas as Record<string, unknown>;
    expect(schemas).not.toHaveProperty('Unused');
    expect(schemas).not.toHaveProperty('Health');
    expect(schemas).toHaveProperty('Money'); // reachable through User
  });

  it('tags operations per service and namespaces shared tag names', () => {
    const doc = mergeOpenApiDocuments([identity, tasks]);
    expect(op(doc, '/auth/login', 'post').tags).toEqual(['auth']);
    expect(op(doc, '/users/{id}', 'get').tags).toEqual(['identity']);
    expect(op(doc, '/tasks', 'get').tags).toEqual(['health']); // identity's health tag was dropped
    expect(doc.tags).toEqual([
      { name: 'auth', description: 'Sessions', 'x-service': 'identity' },
      { name: 'identity', description: 'identity (1.2.0)', 'x-service': 'identity' },
      { name: 'health', 'x-service': 'tasks' },
      { name: 'claims', 'x-service': 'tasks' },
    ]);
    expect(doc['x-tagGroups']).toEqual([
      { name: 'identity', tags: ['auth', 'identity'] },
      { name: 'tasks', tags: ['health', 'claims'] },
    ]);
  });

  it('namespaces a tag that two services use', () => {
    const a: ServiceDocument = {
      service: 'a',
      prefixes: ['/a'],
      document: {
        openapi: '3.1.0',
        info: { title: 'a', version: '1' },
        paths: { '/a': { get: { tags: ['admin'], responses: ok } } },
      },
    };
    const b: ServiceDocument = {
      service: 'b',
      prefixes: ['/b'],
      document: {
        openapi: '3.1.0',
        info: { title: 'b', version: '1' },
        paths: { '/b': { get: { tags: ['admin'], responses: ok } } },
      },
    };
    const doc = mergeOpenApiDocuments([a, b]);
    expect(op(doc, '/a', 'get').tags).toEqual(['a.admin']);
    expect(op(doc, '/b', 'get').tags).toEqual(['b.admin']);
  });

  it('namespaces duplicate operationIds', () => {
    const doc = mergeOpenApiDocuments([identity, tasks]);
    expect(op(doc, '/users/{id}', 'get').operationId).toBe('identity.getUser');
    expect(op(doc, '/tasks', 'get').operationId).toBe('tasks.getUser');
    expect(op(doc, '/auth/login', 'post').operationId).toBe('login');
  });

  it('pushes service-level security down to operations without their own', () => {
    const doc = mergeOpenApiDocuments([identity]);
    expect(op(doc, '/users/{id}', 'get').security).toEqual([{ bearer: [] }]);
    expect(op(doc, '/auth/login', 'post').security).toEqual([]);
    expect(doc).not.toHaveProperty('security');
  });

  it('renames conflicting security schemes in security requirements', () => {
    const other: ServiceDocument = {
      service: 'tasks',
      prefixes: ['/tasks'],
      document: {
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        security: [{ bearer: ['read'] }],
        paths: { '/tasks': { get: { responses: ok } } },
        components: { securitySchemes: { bearer: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
      },
    };
    const doc = mergeOpenApiDocuments([identity, other]);
    expect(Object.keys(doc.components!.securitySchemes as object).sort()).toEqual([
      'identity.bearer',
      'tasks.bearer',
    ]);
    expect(op(doc, '/tasks', 'get').security).toEqual([{ 'tasks.bearer': ['read'] }]);
    expect(op(doc, '/users/{id}', 'get').security).toEqual([{ 'identity.bearer': [] }]);
  });

  it('reports unavailable and invalid services and still merges the rest', () => {
    const doc = mergeOpenApiDocuments([
      identity,
      { service: 'tasks', prefixes: ['/tasks'], unavailableReason: 'unreachable' },
      { service: 'qc', prefixes: ['/qc'], document: { swagger: '2.0' } },
      { service: 'ledger', prefixes: ['/ledger'], document: 'nope' },
    ]);
    expect(doc['x-unavailable-services']).toEqual([
      { service: 'tasks', reason: 'unreachable' },
      { service: 'qc', reason: 'invalid OpenAPI document' },
      { service: 'ledger', reason: 'invalid OpenAPI document' },
    ]);
    expect(doc.info.description).toContain('tasks (unreachable)');
    expect(Object.keys(doc.paths)).toContain('/auth/login');
    expect(doc['x-services'].map((s) => [s.name, s.available])).toEqual([
      ['identity', true],
      ['tasks', false],
      ['qc', false],
      ['ledger', false],
    ]);
  });

  it('does not mutate its inputs and is deterministic', () => {
    const input = identityDoc();
    const snapshot = structuredClone(input);
    const first = mergeOpenApiDocuments([{ ...identity, document: input }, tasks]);
    const second = mergeOpenApiDocuments([{ ...identity, document: input }, tasks]);
    expect(input).toEqual(snapshot);
    expect(first).toEqual(second);
  });

  it('picks the OpenAPI version of its sources', () => {
    const v30 = (service: string): ServiceDocument => ({
      service,
      prefixes: [`/${service}`],
      document: { openapi: '3.0.3', info: { title: service, version: '1' }, paths: {} },
    });
    expect(mergeOpenApiDocuments([v30('a'), v30('b')]).openapi).toBe('3.0.3');
    expect(mergeOpenApiDocuments([v30('a'), identity]).openapi).toBe('3.1.0');
  });
});
