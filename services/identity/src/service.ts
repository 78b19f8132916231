import { periodicJob, type RunningService, type ServiceDefinition } from '@tessera/service-kit';
import { identityTokenVerifier } from './auth/token-verifier.ts';
import type { IdentityConfig } from './config.ts';
import { migrations } from './db/migrations.ts';
import type { IdentityDB } from './db/schema.ts';
import { runMaintenance } from './maintenance.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerIdentitySummary } from './routes/admin-summary.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerCompanyRoutes } from './routes/companies.ts';
import { registerDevMailboxRoute } from './routes/dev-mailbox.ts';
import { registerInvitationRoutes } from './routes/invitations.ts';
import { registerJwksRoute } from './routes/jwks.ts';
import { registerUserRoutes } from './routes/users.ts';
import { createIdentity, type Identity, type IdentityOverrides } from './runtime.ts';
import { bootstrapAdmin } from './users/bootstrap-admin.ts';

export type RunningIdentity = RunningService<IdentityDB, IdentityConfig, Identity>;

/** Worker names, for tests that switch one off. */
export const identityWorkers = { maintenance: 'identity-maintenance' } as const;

/**
 * Identity on the kit. Its resource is the running identity (keys, mailer, throttle), built once
 * its tables exist; it verifies tokens against its own key store, not over HTTP.
 */
export function identityDefinition(
  overrides: IdentityOverrides = {},
): ServiceDefinition<IdentityDB, IdentityConfig, Identity> {
  return {
    name: 'identity',
    description: 'Accounts, sessions, signing keys (JWKS), companies, members and API keys',
    version: '0.1.0',
    migrations,
    resources: {
      async open({ config, db, logger, clock }) {
        const identity = createIdentity(config, db, logger, { clock, ...overrides });
        await identity.keys.initialize();
        await bootstrapAdmin(identity);
        return identity;
      },
    },
    tokens: ({ resources }) => identityTokenVerifier(() => resources),
    routes(app, { config, db, clock, resources: identity }) {
      registerAuthRoutes(app, identity);
      registerJwksRoute(app, identity);
      registerUserRoutes(app, identity);
      registerCompanyRoutes(app, identity);
      registerInvitationRoutes(app, identity);
      registerAdminRoutes(app, identity);
      registerIdentitySummary(app, db, clock);
      // Only while mail really lands in the dev mailbox (never in production, where SMTP is
      // required): with SMTP configured the route would only advertise an unauthenticated reader.
      if (config.NODE_ENV !== 'production' && identity.mailer.transport === 'dev-mailbox') {
        registerDevMailboxRoute(app, identity);
      }
    },
    workers: ({ config, resources: identity }) => [
      periodicJob({
        name: identityWorkers.maintenance,
        intervalMs: config.SIGNING_KEY_CHECK_INTERVAL_S * 1000,
        work: () => runMaintenance(identity),
      }),
    ],
  };
}
