import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { bestPrefix, comparePrefixes, matchesPrefix, samePattern, toRouterPattern } from './paths.ts';
import { proxyMounts } from './proxy.ts';

const routes = [
  { service: 'identity', prefix: '/api/v1/companies' },
  { service: 'ledger', prefix: '/api/v1/companies/:id/credits' },
  { service: 'ledger', prefix: '/api/v1/companies/:id/topups' },
  { service: 'tasks', prefix: '/api/v1/campaigns' },
  { service: 'ledger', prefix: '/api/v1/campaigns/:id/budget' },
];
const owner = (path: string) => bestPrefix(path, routes)?.service;

describe('matchesPrefix', () => {
  it('matches literal segments on segment boundaries', () => {
    expect(matchesPrefix('/auth/login', '/auth')).toBe(true);
    expect(matchesPrefix('/auth/', '/auth')).toBe(true);
    expect(matchesPrefix('/authors', '/auth')).toBe(false);
  });

  it('lets a :name segment of the prefix match any one segment, an OpenAPI {name} included', () => {
    expect(matchesPrefix('/api/v1/companies/{id}/credits', '/api/v1/companies/:id/credits')).toBe(true);
    expect(matchesPrefix('/api/v1/companies/c1/credits/x', '/api/v1/companies/:id/credits')).toBe(true);
    expect(matchesPrefix('/api/v1/companies/{companyId}/credits', '/api/v1/companies/:id/credits')).toBe(
      true,
    );
    expect(matchesPrefix('/api/v1/companies/{id}', '/api/v1/companies/:id/credits')).toBe(false);
    expect(matchesPrefix('/api/v1/companies//credits', '/api/v1/companies/:id/credits')).toBe(false);
    expect(matchesPrefix('/api/v1/submissions/s1/media', '/api/v1/submissions/*/media')).toBe(true);
  });

  it('does not let a literal segment of the prefix match a parameter of the path', () => {
    expect(matchesPrefix('/tasks/{id}', '/tasks/echo')).toBe(false);
  });
});

describe('bestPrefix', () => {
  it('picks what the router picks: literal over parameter over a shorter prefix', () => {
    expect(owner('/api/v1/companies/{id}/credits')).toBe('ledger');
    expect(owner('/api/v1/companies/{id}/topups')).toBe('ledger');
    expect(owner('/api/v1/campaigns/{id}/budget')).toBe('ledger');
    expect(owner('/api/v1/companies/{id}')).toBe('identity');
    expect(owner('/api/v1/companies/{id}/members')).toBe('identity');
    expect(owner('/api/v1/campaigns/{id}/tasks')).toBe('tasks');
    expect(owner('/api/v1/other')).toBeUndefined();
    expect(comparePrefixes('/tasks/echo', '/tasks/:c/budget')).toBeGreaterThan(0);
    expect(comparePrefixes('/tasks', '/tasks/:c/budget')).toBeLessThan(0);
  });
});

describe('patterns', () => {
  it('compares parameters by position and writes them for the router', () => {
    expect(samePattern('/a/:id/b', '/a/*/b')).toBe(true);
    expect(samePattern('/a/:id/b', '/a/x/b')).toBe(false);
    expect(toRouterPattern('/api/v1/submissions/*/media')).toBe('/api/v1/submissions/:p3/media');
    expect(toRouterPattern('/api/v1/companies/:id/credits')).toBe('/api/v1/companies/:id/credits');
  });
});

describe('proxyMounts', () => {
  it('gives upload patterns the upload limit and the upstream of the prefix that covers them', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      GATEWAY_ROUTES: JSON.stringify([
        { service: 'submissions', prefix: '/api/v1/submissions', upstream: 'http://submissions:4003' },
        { service: 'media', prefix: '/api/v1/media', upstream: 'http://media:4009' },
      ]),
      GATEWAY_BODY_LIMIT: '1000',
      GATEWAY_UPLOAD_BODY_LIMIT: '50000',
    });
    expect(proxyMounts(config)).toEqual([
      {
        service: 'submissions',
        pattern: '/api/v1/submissions',
        upstream: 'http://submissions:4003',
        bodyLimit: 1000,
        upload: false,
      },
      // The default upload paths: one is a whole route prefix, the other lies under one.
      {
        service: 'media',
        pattern: '/api/v1/media',
        upstream: 'http://media:4009',
        bodyLimit: 50000,
        upload: true,
      },
      {
        service: 'submissions',
        pattern: '/api/v1/submissions/*/media',
        upstream: 'http://submissions:4003',
        bodyLimit: 50000,
        upload: true,
      },
    ]);
  });

  it('leaves out an upload pattern that no route covers', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      GATEWAY_ROUTES: JSON.stringify([
        { service: 'identity', prefix: '/auth', upstream: 'http://identity:4001' },
      ]),
    });
    expect(proxyMounts(config).map((m) => m.pattern)).toEqual(['/auth']);
  });
});
