import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config.ts';
import { busOptionsFor } from './bus-config.ts';

const base = { NATS_URL: 'nats://127.0.0.1:4222', NATS_PREFIX: '' };

describe('the bus options of a service', () => {
  it('refuses a production start without the service’s NATS credentials', () => {
    for (const partial of [{}, { NATS_USER: 'tasks' }, { NATS_PASSWORD: 'secret' }]) {
      expect(() => busOptionsFor('tasks', { ...base, NODE_ENV: 'production', ...partial })).toThrow(
        ConfigError,
      );
    }
  });

  it('connects with the user, password and CA it is given', () => {
    const options = busOptionsFor('tasks', {
      ...base,
      NODE_ENV: 'production',
      NATS_USER: 'tasks',
      NATS_PASSWORD: 'secret',
      NATS_TLS_CA: '/etc/nats/certs/ca.pem',
    });
    expect(options).toMatchObject({ user: 'tasks', password: 'secret', tlsCa: '/etc/nats/certs/ca.pem' });
  });

  it('connects without credentials in development and tests', () => {
    for (const NODE_ENV of ['development', 'test'] as const) {
      const options = busOptionsFor('tasks', { ...base, NODE_ENV });
      expect(options.user).toBeUndefined();
      expect(options.tlsCa).toBeUndefined();
    }
  });
});
