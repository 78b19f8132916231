import type { ServiceDefinition, TokenVerifier } from '@tessera/service-kit';
import { identityTokenVerifier } from './auth/token-verifier.ts';
import { parseIdentityConfig } from './config.ts';
import { migrations } from './db/migrations.ts';
import type { IdentityDB } from './db/schema.ts';
import { startMaintenance } from './maintenance.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerCompanyRoutes } from './routes/companies.ts';
import { registerDevMailboxRoute } from './routes/dev-mailbox.ts';
import { registerJwksRoute } from './routes/jwks.ts';
import { registerUserRoutes } from './routes/users.ts';
import { createIdentity, type Identity, type IdentityOverrides } from './runtime.ts';
import { bootstrapAdmin } from './users/bootstrap-admin.ts';

export interface IdentityService {
  definition: ServiceDefinition<IdentityDB>;
  /** Pass to startService / runService: identity verifies tokens against its own key store. */
  tokens: TokenVerifier;
  /** The running identity (after start): its keys, mailer, clock; for tests and scripts. */
  identity(): Identity;
}

export function createIdentityService(overrides: IdentityOverrides = {}): IdentityService {
  let identity: Identity | undefined;
  const definition: ServiceDefinition<IdentityDB> = {
    name: 'identity',
    description: 'Accounts, sessions, signing keys (JWKS), companies, members and API keys',
    version: '0.1.0',
    migrations,
    async routes(app, context) {
      const config = parseIdentityConfig(context.config);
      const running = createIdentity(config, context.db, context.logger, overrides);
      await running.keys.initialize();
      await bootstrapAdmin(running);
      identity = running;
      const stopMaintenance = startMaintenance(running);
      app.addHook('onClose', async () => stopMaintenance());

      registerAuthRoutes(app, running);
      registerJwksRoute(app, running);
      registerUserRoutes(app, running);
      registerCompanyRoutes(app, running);
      registerAdminRoutes(app, running);
      if (config.NODE_ENV !== 'production') registerDevMailboxRoute(app, running);
    },
  };
  return {
    definition,
    tokens: identityTokenVerifier(() => identity),
    identity() {
      if (!identity) throw new Error('identity has not started');
      return identity;
    },
  };
}
